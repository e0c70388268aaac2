/* optdyn tests — random streams: Philox known answers (placeholder until the stream tests land). */
#include "od_test.h"
#include "core/optdyn_core.h"

void od_test_suite_stream(void);

/* Random123's published known-answer vectors (DEShawResearch/random123, tests/kat_vectors):
 * counter[4] key[2] -> output[4] for philox4x32 with 10 rounds. */
static void test_philox_kat(void)
{
    static const uint32_t v[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1}};
    for (int i = 0; i < 3; i++) {
        uint32_t out[4];
        od_philox4x32_10(v[i], v[i] + 4, out);
        for (int j = 0; j < 4; j++) CU_ASSERT_EQUAL(out[j], v[i][6 + j]);
    }
}

void od_test_suite_stream(void)
{
    static const od_test_case cases[] = {{"philox known answers", test_philox_kat}, {NULL, NULL}};
    od_test_add("stream", cases);
}
