# optdyn figure style template (placeholder)
