# od_embed_text(TARGET VAR FILE): compiles the text of FILE into TARGET as `const char VAR[]`.
# Re-runs configuration when FILE changes.
function(od_embed_text target var file)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file})
  file(READ ${file} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  set(out ${PROJECT_BINARY_DIR}/generated/${var}.c)
  file(WRITE ${out} "/* generated from ${file} */\nextern const char ${var}[];\nconst char ${var}[] = {${hex}0x00};\n")
  target_sources(${target} PRIVATE ${out})
endfunction()
