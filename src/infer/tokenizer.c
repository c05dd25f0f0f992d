/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tokenizer - llama.cpp's SPM (llm_tokenizer_spm) and BPE "gpt-2"
 * (llm_tokenizer_bpe + unicode_regex_split_custom_gpt2) tokenizers, ported
 * to C so that prompts tokenise exactly as llama.cpp tokenises them.  All
 * vocabulary data lives in one arena built by tokenizer_new; encode takes
 * one scratch allocation per call, decode and pieces never allocate.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer/tokenizer.h"

/*
 * Unicode classes for the GPT-2 pre-tokenizer: General Category L* and N*,
 * generated from Python's unicodedata (Unicode 14.0) by
 * tests/tools/mktokdata.py ctable.  llama.cpp's tables come from a newer
 * UnicodeData.txt; only code points assigned after 14.0 can differ.
 */
struct urange {
	uint32_t	lo, hi;
};

/* BEGIN GENERATED TABLES (mktokdata.py ctable) */
static const struct urange uc_letter[] = {
	{0x41, 0x5a}, {0x61, 0x7a}, {0xaa, 0xaa}, {0xb5, 0xb5}, {0xba, 0xba},
	{0xc0, 0xd6}, {0xd8, 0xf6}, {0xf8, 0x2c1}, {0x2c6, 0x2d1},
	{0x2e0, 0x2e4}, {0x2ec, 0x2ec}, {0x2ee, 0x2ee}, {0x370, 0x374},
	{0x376, 0x377}, {0x37a, 0x37d}, {0x37f, 0x37f}, {0x386, 0x386},
	{0x388, 0x38a}, {0x38c, 0x38c}, {0x38e, 0x3a1}, {0x3a3, 0x3f5},
	{0x3f7, 0x481}, {0x48a, 0x52f}, {0x531, 0x556}, {0x559, 0x559},
	{0x560, 0x588}, {0x5d0, 0x5ea}, {0x5ef, 0x5f2}, {0x620, 0x64a},
	{0x66e, 0x66f}, {0x671, 0x6d3}, {0x6d5, 0x6d5}, {0x6e5, 0x6e6},
	{0x6ee, 0x6ef}, {0x6fa, 0x6fc}, {0x6ff, 0x6ff}, {0x710, 0x710},
	{0x712, 0x72f}, {0x74d, 0x7a5}, {0x7b1, 0x7b1}, {0x7ca, 0x7ea},
	{0x7f4, 0x7f5}, {0x7fa, 0x7fa}, {0x800, 0x815}, {0x81a, 0x81a},
	{0x824, 0x824}, {0x828, 0x828}, {0x840, 0x858}, {0x860, 0x86a},
	{0x870, 0x887}, {0x889, 0x88e}, {0x8a0, 0x8c9}, {0x904, 0x939},
	{0x93d, 0x93d}, {0x950, 0x950}, {0x958, 0x961}, {0x971, 0x980},
	{0x985, 0x98c}, {0x98f, 0x990}, {0x993, 0x9a8}, {0x9aa, 0x9b0},
	{0x9b2, 0x9b2}, {0x9b6, 0x9b9}, {0x9bd, 0x9bd}, {0x9ce, 0x9ce},
	{0x9dc, 0x9dd}, {0x9df, 0x9e1}, {0x9f0, 0x9f1}, {0x9fc, 0x9fc},
	{0xa05, 0xa0a}, {0xa0f, 0xa10}, {0xa13, 0xa28}, {0xa2a, 0xa30},
	{0xa32, 0xa33}, {0xa35, 0xa36}, {0xa38, 0xa39}, {0xa59, 0xa5c},
	{0xa5e, 0xa5e}, {0xa72, 0xa74}, {0xa85, 0xa8d}, {0xa8f, 0xa91},
	{0xa93, 0xaa8}, {0xaaa, 0xab0}, {0xab2, 0xab3}, {0xab5, 0xab9},
	{0xabd, 0xabd}, {0xad0, 0xad0}, {0xae0, 0xae1}, {0xaf9, 0xaf9},
	{0xb05, 0xb0c}, {0xb0f, 0xb10}, {0xb13, 0xb28}, {0xb2a, 0xb30},
	{0xb32, 0xb33}, {0xb35, 0xb39}, {0xb3d, 0xb3d}, {0xb5c, 0xb5d},
	{0xb5f, 0xb61}, {0xb71, 0xb71}, {0xb83, 0xb83}, {0xb85, 0xb8a},
	{0xb8e, 0xb90}, {0xb92, 0xb95}, {0xb99, 0xb9a}, {0xb9c, 0xb9c},
	{0xb9e, 0xb9f}, {0xba3, 0xba4}, {0xba8, 0xbaa}, {0xbae, 0xbb9},
	{0xbd0, 0xbd0}, {0xc05, 0xc0c}, {0xc0e, 0xc10}, {0xc12, 0xc28},
	{0xc2a, 0xc39}, {0xc3d, 0xc3d}, {0xc58, 0xc5a}, {0xc5d, 0xc5d},
	{0xc60, 0xc61}, {0xc80, 0xc80}, {0xc85, 0xc8c}, {0xc8e, 0xc90},
	{0xc92, 0xca8}, {0xcaa, 0xcb3}, {0xcb5, 0xcb9}, {0xcbd, 0xcbd},
	{0xcdd, 0xcde}, {0xce0, 0xce1}, {0xcf1, 0xcf2}, {0xd04, 0xd0c},
	{0xd0e, 0xd10}, {0xd12, 0xd3a}, {0xd3d, 0xd3d}, {0xd4e, 0xd4e},
	{0xd54, 0xd56}, {0xd5f, 0xd61}, {0xd7a, 0xd7f}, {0xd85, 0xd96},
	{0xd9a, 0xdb1}, {0xdb3, 0xdbb}, {0xdbd, 0xdbd}, {0xdc0, 0xdc6},
	{0xe01, 0xe30}, {0xe32, 0xe33}, {0xe40, 0xe46}, {0xe81, 0xe82},
	{0xe84, 0xe84}, {0xe86, 0xe8a}, {0xe8c, 0xea3}, {0xea5, 0xea5},
	{0xea7, 0xeb0}, {0xeb2, 0xeb3}, {0xebd, 0xebd}, {0xec0, 0xec4},
	{0xec6, 0xec6}, {0xedc, 0xedf}, {0xf00, 0xf00}, {0xf40, 0xf47},
	{0xf49, 0xf6c}, {0xf88, 0xf8c}, {0x1000, 0x102a}, {0x103f, 0x103f},
	{0x1050, 0x1055}, {0x105a, 0x105d}, {0x1061, 0x1061},
	{0x1065, 0x1066}, {0x106e, 0x1070}, {0x1075, 0x1081},
	{0x108e, 0x108e}, {0x10a0, 0x10c5}, {0x10c7, 0x10c7},
	{0x10cd, 0x10cd}, {0x10d0, 0x10fa}, {0x10fc, 0x1248},
	{0x124a, 0x124d}, {0x1250, 0x1256}, {0x1258, 0x1258},
	{0x125a, 0x125d}, {0x1260, 0x1288}, {0x128a, 0x128d},
	{0x1290, 0x12b0}, {0x12b2, 0x12b5}, {0x12b8, 0x12be},
	{0x12c0, 0x12c0}, {0x12c2, 0x12c5}, {0x12c8, 0x12d6},
	{0x12d8, 0x1310}, {0x1312, 0x1315}, {0x1318, 0x135a},
	{0x1380, 0x138f}, {0x13a0, 0x13f5}, {0x13f8, 0x13fd},
	{0x1401, 0x166c}, {0x166f, 0x167f}, {0x1681, 0x169a},
	{0x16a0, 0x16ea}, {0x16f1, 0x16f8}, {0x1700, 0x1711},
	{0x171f, 0x1731}, {0x1740, 0x1751}, {0x1760, 0x176c},
	{0x176e, 0x1770}, {0x1780, 0x17b3}, {0x17d7, 0x17d7},
	{0x17dc, 0x17dc}, {0x1820, 0x1878}, {0x1880, 0x1884},
	{0x1887, 0x18a8}, {0x18aa, 0x18aa}, {0x18b0, 0x18f5},
	{0x1900, 0x191e}, {0x1950, 0x196d}, {0x1970, 0x1974},
	{0x1980, 0x19ab}, {0x19b0, 0x19c9}, {0x1a00, 0x1a16},
	{0x1a20, 0x1a54}, {0x1aa7, 0x1aa7}, {0x1b05, 0x1b33},
	{0x1b45, 0x1b4c}, {0x1b83, 0x1ba0}, {0x1bae, 0x1baf},
	{0x1bba, 0x1be5}, {0x1c00, 0x1c23}, {0x1c4d, 0x1c4f},
	{0x1c5a, 0x1c7d}, {0x1c80, 0x1c88}, {0x1c90, 0x1cba},
	{0x1cbd, 0x1cbf}, {0x1ce9, 0x1cec}, {0x1cee, 0x1cf3},
	{0x1cf5, 0x1cf6}, {0x1cfa, 0x1cfa}, {0x1d00, 0x1dbf},
	{0x1e00, 0x1f15}, {0x1f18, 0x1f1d}, {0x1f20, 0x1f45},
	{0x1f48, 0x1f4d}, {0x1f50, 0x1f57}, {0x1f59, 0x1f59},
	{0x1f5b, 0x1f5b}, {0x1f5d, 0x1f5d}, {0x1f5f, 0x1f7d},
	{0x1f80, 0x1fb4}, {0x1fb6, 0x1fbc}, {0x1fbe, 0x1fbe},
	{0x1fc2, 0x1fc4}, {0x1fc6, 0x1fcc}, {0x1fd0, 0x1fd3},
	{0x1fd6, 0x1fdb}, {0x1fe0, 0x1fec}, {0x1ff2, 0x1ff4},
	{0x1ff6, 0x1ffc}, {0x2071, 0x2071}, {0x207f, 0x207f},
	{0x2090, 0x209c}, {0x2102, 0x2102}, {0x2107, 0x2107},
	{0x210a, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211d},
	{0x2124, 0x2124}, {0x2126, 0x2126}, {0x2128, 0x2128},
	{0x212a, 0x212d}, {0x212f, 0x2139}, {0x213c, 0x213f},
	{0x2145, 0x2149}, {0x214e, 0x214e}, {0x2183, 0x2184},
	{0x2c00, 0x2ce4}, {0x2ceb, 0x2cee}, {0x2cf2, 0x2cf3},
	{0x2d00, 0x2d25}, {0x2d27, 0x2d27}, {0x2d2d, 0x2d2d},
	{0x2d30, 0x2d67}, {0x2d6f, 0x2d6f}, {0x2d80, 0x2d96},
	{0x2da0, 0x2da6}, {0x2da8, 0x2dae}, {0x2db0, 0x2db6},
	{0x2db8, 0x2dbe}, {0x2dc0, 0x2dc6}, {0x2dc8, 0x2dce},
	{0x2dd0, 0x2dd6}, {0x2dd8, 0x2dde}, {0x2e2f, 0x2e2f},
	{0x3005, 0x3006}, {0x3031, 0x3035}, {0x303b, 0x303c},
	{0x3041, 0x3096}, {0x309d, 0x309f}, {0x30a1, 0x30fa},
	{0x30fc, 0x30ff}, {0x3105, 0x312f}, {0x3131, 0x318e},
	{0x31a0, 0x31bf}, {0x31f0, 0x31ff}, {0x3400, 0x4dbf},
	{0x4e00, 0xa48c}, {0xa4d0, 0xa4fd}, {0xa500, 0xa60c},
	{0xa610, 0xa61f}, {0xa62a, 0xa62b}, {0xa640, 0xa66e},
	{0xa67f, 0xa69d}, {0xa6a0, 0xa6e5}, {0xa717, 0xa71f},
	{0xa722, 0xa788}, {0xa78b, 0xa7ca}, {0xa7d0, 0xa7d1},
	{0xa7d3, 0xa7d3}, {0xa7d5, 0xa7d9}, {0xa7f2, 0xa801},
	{0xa803, 0xa805}, {0xa807, 0xa80a}, {0xa80c, 0xa822},
	{0xa840, 0xa873}, {0xa882, 0xa8b3}, {0xa8f2, 0xa8f7},
	{0xa8fb, 0xa8fb}, {0xa8fd, 0xa8fe}, {0xa90a, 0xa925},
	{0xa930, 0xa946}, {0xa960, 0xa97c}, {0xa984, 0xa9b2},
	{0xa9cf, 0xa9cf}, {0xa9e0, 0xa9e4}, {0xa9e6, 0xa9ef},
	{0xa9fa, 0xa9fe}, {0xaa00, 0xaa28}, {0xaa40, 0xaa42},
	{0xaa44, 0xaa4b}, {0xaa60, 0xaa76}, {0xaa7a, 0xaa7a},
	{0xaa7e, 0xaaaf}, {0xaab1, 0xaab1}, {0xaab5, 0xaab6},
	{0xaab9, 0xaabd}, {0xaac0, 0xaac0}, {0xaac2, 0xaac2},
	{0xaadb, 0xaadd}, {0xaae0, 0xaaea}, {0xaaf2, 0xaaf4},
	{0xab01, 0xab06}, {0xab09, 0xab0e}, {0xab11, 0xab16},
	{0xab20, 0xab26}, {0xab28, 0xab2e}, {0xab30, 0xab5a},
	{0xab5c, 0xab69}, {0xab70, 0xabe2}, {0xac00, 0xd7a3},
	{0xd7b0, 0xd7c6}, {0xd7cb, 0xd7fb}, {0xf900, 0xfa6d},
	{0xfa70, 0xfad9}, {0xfb00, 0xfb06}, {0xfb13, 0xfb17},
	{0xfb1d, 0xfb1d}, {0xfb1f, 0xfb28}, {0xfb2a, 0xfb36},
	{0xfb38, 0xfb3c}, {0xfb3e, 0xfb3e}, {0xfb40, 0xfb41},
	{0xfb43, 0xfb44}, {0xfb46, 0xfbb1}, {0xfbd3, 0xfd3d},
	{0xfd50, 0xfd8f}, {0xfd92, 0xfdc7}, {0xfdf0, 0xfdfb},
	{0xfe70, 0xfe74}, {0xfe76, 0xfefc}, {0xff21, 0xff3a},
	{0xff41, 0xff5a}, {0xff66, 0xffbe}, {0xffc2, 0xffc7},
	{0xffca, 0xffcf}, {0xffd2, 0xffd7}, {0xffda, 0xffdc},
	{0x10000, 0x1000b}, {0x1000d, 0x10026}, {0x10028, 0x1003a},
	{0x1003c, 0x1003d}, {0x1003f, 0x1004d}, {0x10050, 0x1005d},
	{0x10080, 0x100fa}, {0x10280, 0x1029c}, {0x102a0, 0x102d0},
	{0x10300, 0x1031f}, {0x1032d, 0x10340}, {0x10342, 0x10349},
	{0x10350, 0x10375}, {0x10380, 0x1039d}, {0x103a0, 0x103c3},
	{0x103c8, 0x103cf}, {0x10400, 0x1049d}, {0x104b0, 0x104d3},
	{0x104d8, 0x104fb}, {0x10500, 0x10527}, {0x10530, 0x10563},
	{0x10570, 0x1057a}, {0x1057c, 0x1058a}, {0x1058c, 0x10592},
	{0x10594, 0x10595}, {0x10597, 0x105a1}, {0x105a3, 0x105b1},
	{0x105b3, 0x105b9}, {0x105bb, 0x105bc}, {0x10600, 0x10736},
	{0x10740, 0x10755}, {0x10760, 0x10767}, {0x10780, 0x10785},
	{0x10787, 0x107b0}, {0x107b2, 0x107ba}, {0x10800, 0x10805},
	{0x10808, 0x10808}, {0x1080a, 0x10835}, {0x10837, 0x10838},
	{0x1083c, 0x1083c}, {0x1083f, 0x10855}, {0x10860, 0x10876},
	{0x10880, 0x1089e}, {0x108e0, 0x108f2}, {0x108f4, 0x108f5},
	{0x10900, 0x10915}, {0x10920, 0x10939}, {0x10980, 0x109b7},
	{0x109be, 0x109bf}, {0x10a00, 0x10a00}, {0x10a10, 0x10a13},
	{0x10a15, 0x10a17}, {0x10a19, 0x10a35}, {0x10a60, 0x10a7c},
	{0x10a80, 0x10a9c}, {0x10ac0, 0x10ac7}, {0x10ac9, 0x10ae4},
	{0x10b00, 0x10b35}, {0x10b40, 0x10b55}, {0x10b60, 0x10b72},
	{0x10b80, 0x10b91}, {0x10c00, 0x10c48}, {0x10c80, 0x10cb2},
	{0x10cc0, 0x10cf2}, {0x10d00, 0x10d23}, {0x10e80, 0x10ea9},
	{0x10eb0, 0x10eb1}, {0x10f00, 0x10f1c}, {0x10f27, 0x10f27},
	{0x10f30, 0x10f45}, {0x10f70, 0x10f81}, {0x10fb0, 0x10fc4},
	{0x10fe0, 0x10ff6}, {0x11003, 0x11037}, {0x11071, 0x11072},
	{0x11075, 0x11075}, {0x11083, 0x110af}, {0x110d0, 0x110e8},
	{0x11103, 0x11126}, {0x11144, 0x11144}, {0x11147, 0x11147},
	{0x11150, 0x11172}, {0x11176, 0x11176}, {0x11183, 0x111b2},
	{0x111c1, 0x111c4}, {0x111da, 0x111da}, {0x111dc, 0x111dc},
	{0x11200, 0x11211}, {0x11213, 0x1122b}, {0x11280, 0x11286},
	{0x11288, 0x11288}, {0x1128a, 0x1128d}, {0x1128f, 0x1129d},
	{0x1129f, 0x112a8}, {0x112b0, 0x112de}, {0x11305, 0x1130c},
	{0x1130f, 0x11310}, {0x11313, 0x11328}, {0x1132a, 0x11330},
	{0x11332, 0x11333}, {0x11335, 0x11339}, {0x1133d, 0x1133d},
	{0x11350, 0x11350}, {0x1135d, 0x11361}, {0x11400, 0x11434},
	{0x11447, 0x1144a}, {0x1145f, 0x11461}, {0x11480, 0x114af},
	{0x114c4, 0x114c5}, {0x114c7, 0x114c7}, {0x11580, 0x115ae},
	{0x115d8, 0x115db}, {0x11600, 0x1162f}, {0x11644, 0x11644},
	{0x11680, 0x116aa}, {0x116b8, 0x116b8}, {0x11700, 0x1171a},
	{0x11740, 0x11746}, {0x11800, 0x1182b}, {0x118a0, 0x118df},
	{0x118ff, 0x11906}, {0x11909, 0x11909}, {0x1190c, 0x11913},
	{0x11915, 0x11916}, {0x11918, 0x1192f}, {0x1193f, 0x1193f},
	{0x11941, 0x11941}, {0x119a0, 0x119a7}, {0x119aa, 0x119d0},
	{0x119e1, 0x119e1}, {0x119e3, 0x119e3}, {0x11a00, 0x11a00},
	{0x11a0b, 0x11a32}, {0x11a3a, 0x11a3a}, {0x11a50, 0x11a50},
	{0x11a5c, 0x11a89}, {0x11a9d, 0x11a9d}, {0x11ab0, 0x11af8},
	{0x11c00, 0x11c08}, {0x11c0a, 0x11c2e}, {0x11c40, 0x11c40},
	{0x11c72, 0x11c8f}, {0x11d00, 0x11d06}, {0x11d08, 0x11d09},
	{0x11d0b, 0x11d30}, {0x11d46, 0x11d46}, {0x11d60, 0x11d65},
	{0x11d67, 0x11d68}, {0x11d6a, 0x11d89}, {0x11d98, 0x11d98},
	{0x11ee0, 0x11ef2}, {0x11fb0, 0x11fb0}, {0x12000, 0x12399},
	{0x12480, 0x12543}, {0x12f90, 0x12ff0}, {0x13000, 0x1342e},
	{0x14400, 0x14646}, {0x16800, 0x16a38}, {0x16a40, 0x16a5e},
	{0x16a70, 0x16abe}, {0x16ad0, 0x16aed}, {0x16b00, 0x16b2f},
	{0x16b40, 0x16b43}, {0x16b63, 0x16b77}, {0x16b7d, 0x16b8f},
	{0x16e40, 0x16e7f}, {0x16f00, 0x16f4a}, {0x16f50, 0x16f50},
	{0x16f93, 0x16f9f}, {0x16fe0, 0x16fe1}, {0x16fe3, 0x16fe3},
	{0x17000, 0x187f7}, {0x18800, 0x18cd5}, {0x18d00, 0x18d08},
	{0x1aff0, 0x1aff3}, {0x1aff5, 0x1affb}, {0x1affd, 0x1affe},
	{0x1b000, 0x1b122}, {0x1b150, 0x1b152}, {0x1b164, 0x1b167},
	{0x1b170, 0x1b2fb}, {0x1bc00, 0x1bc6a}, {0x1bc70, 0x1bc7c},
	{0x1bc80, 0x1bc88}, {0x1bc90, 0x1bc99}, {0x1d400, 0x1d454},
	{0x1d456, 0x1d49c}, {0x1d49e, 0x1d49f}, {0x1d4a2, 0x1d4a2},
	{0x1d4a5, 0x1d4a6}, {0x1d4a9, 0x1d4ac}, {0x1d4ae, 0x1d4b9},
	{0x1d4bb, 0x1d4bb}, {0x1d4bd, 0x1d4c3}, {0x1d4c5, 0x1d505},
	{0x1d507, 0x1d50a}, {0x1d50d, 0x1d514}, {0x1d516, 0x1d51c},
	{0x1d51e, 0x1d539}, {0x1d53b, 0x1d53e}, {0x1d540, 0x1d544},
	{0x1d546, 0x1d546}, {0x1d54a, 0x1d550}, {0x1d552, 0x1d6a5},
	{0x1d6a8, 0x1d6c0}, {0x1d6c2, 0x1d6da}, {0x1d6dc, 0x1d6fa},
	{0x1d6fc, 0x1d714}, {0x1d716, 0x1d734}, {0x1d736, 0x1d74e},
	{0x1d750, 0x1d76e}, {0x1d770, 0x1d788}, {0x1d78a, 0x1d7a8},
	{0x1d7aa, 0x1d7c2}, {0x1d7c4, 0x1d7cb}, {0x1df00, 0x1df1e},
	{0x1e100, 0x1e12c}, {0x1e137, 0x1e13d}, {0x1e14e, 0x1e14e},
	{0x1e290, 0x1e2ad}, {0x1e2c0, 0x1e2eb}, {0x1e7e0, 0x1e7e6},
	{0x1e7e8, 0x1e7eb}, {0x1e7ed, 0x1e7ee}, {0x1e7f0, 0x1e7fe},
	{0x1e800, 0x1e8c4}, {0x1e900, 0x1e943}, {0x1e94b, 0x1e94b},
	{0x1ee00, 0x1ee03}, {0x1ee05, 0x1ee1f}, {0x1ee21, 0x1ee22},
	{0x1ee24, 0x1ee24}, {0x1ee27, 0x1ee27}, {0x1ee29, 0x1ee32},
	{0x1ee34, 0x1ee37}, {0x1ee39, 0x1ee39}, {0x1ee3b, 0x1ee3b},
	{0x1ee42, 0x1ee42}, {0x1ee47, 0x1ee47}, {0x1ee49, 0x1ee49},
	{0x1ee4b, 0x1ee4b}, {0x1ee4d, 0x1ee4f}, {0x1ee51, 0x1ee52},
	{0x1ee54, 0x1ee54}, {0x1ee57, 0x1ee57}, {0x1ee59, 0x1ee59},
	{0x1ee5b, 0x1ee5b}, {0x1ee5d, 0x1ee5d}, {0x1ee5f, 0x1ee5f},
	{0x1ee61, 0x1ee62}, {0x1ee64, 0x1ee64}, {0x1ee67, 0x1ee6a},
	{0x1ee6c, 0x1ee72}, {0x1ee74, 0x1ee77}, {0x1ee79, 0x1ee7c},
	{0x1ee7e, 0x1ee7e}, {0x1ee80, 0x1ee89}, {0x1ee8b, 0x1ee9b},
	{0x1eea1, 0x1eea3}, {0x1eea5, 0x1eea9}, {0x1eeab, 0x1eebb},
	{0x20000, 0x2a6df}, {0x2a700, 0x2b738}, {0x2b740, 0x2b81d},
	{0x2b820, 0x2cea1}, {0x2ceb0, 0x2ebe0}, {0x2f800, 0x2fa1d},
	{0x30000, 0x3134a},
};
static const struct urange uc_number[] = {
	{0x30, 0x39}, {0xb2, 0xb3}, {0xb9, 0xb9}, {0xbc, 0xbe},
	{0x660, 0x669}, {0x6f0, 0x6f9}, {0x7c0, 0x7c9}, {0x966, 0x96f},
	{0x9e6, 0x9ef}, {0x9f4, 0x9f9}, {0xa66, 0xa6f}, {0xae6, 0xaef},
	{0xb66, 0xb6f}, {0xb72, 0xb77}, {0xbe6, 0xbf2}, {0xc66, 0xc6f},
	{0xc78, 0xc7e}, {0xce6, 0xcef}, {0xd58, 0xd5e}, {0xd66, 0xd78},
	{0xde6, 0xdef}, {0xe50, 0xe59}, {0xed0, 0xed9}, {0xf20, 0xf33},
	{0x1040, 0x1049}, {0x1090, 0x1099}, {0x1369, 0x137c},
	{0x16ee, 0x16f0}, {0x17e0, 0x17e9}, {0x17f0, 0x17f9},
	{0x1810, 0x1819}, {0x1946, 0x194f}, {0x19d0, 0x19da},
	{0x1a80, 0x1a89}, {0x1a90, 0x1a99}, {0x1b50, 0x1b59},
	{0x1bb0, 0x1bb9}, {0x1c40, 0x1c49}, {0x1c50, 0x1c59},
	{0x2070, 0x2070}, {0x2074, 0x2079}, {0x2080, 0x2089},
	{0x2150, 0x2182}, {0x2185, 0x2189}, {0x2460, 0x249b},
	{0x24ea, 0x24ff}, {0x2776, 0x2793}, {0x2cfd, 0x2cfd},
	{0x3007, 0x3007}, {0x3021, 0x3029}, {0x3038, 0x303a},
	{0x3192, 0x3195}, {0x3220, 0x3229}, {0x3248, 0x324f},
	{0x3251, 0x325f}, {0x3280, 0x3289}, {0x32b1, 0x32bf},
	{0xa620, 0xa629}, {0xa6e6, 0xa6ef}, {0xa830, 0xa835},
	{0xa8d0, 0xa8d9}, {0xa900, 0xa909}, {0xa9d0, 0xa9d9},
	{0xa9f0, 0xa9f9}, {0xaa50, 0xaa59}, {0xabf0, 0xabf9},
	{0xff10, 0xff19}, {0x10107, 0x10133}, {0x10140, 0x10178},
	{0x1018a, 0x1018b}, {0x102e1, 0x102fb}, {0x10320, 0x10323},
	{0x10341, 0x10341}, {0x1034a, 0x1034a}, {0x103d1, 0x103d5},
	{0x104a0, 0x104a9}, {0x10858, 0x1085f}, {0x10879, 0x1087f},
	{0x108a7, 0x108af}, {0x108fb, 0x108ff}, {0x10916, 0x1091b},
	{0x109bc, 0x109bd}, {0x109c0, 0x109cf}, {0x109d2, 0x109ff},
	{0x10a40, 0x10a48}, {0x10a7d, 0x10a7e}, {0x10a9d, 0x10a9f},
	{0x10aeb, 0x10aef}, {0x10b58, 0x10b5f}, {0x10b78, 0x10b7f},
	{0x10ba9, 0x10baf}, {0x10cfa, 0x10cff}, {0x10d30, 0x10d39},
	{0x10e60, 0x10e7e}, {0x10f1d, 0x10f26}, {0x10f51, 0x10f54},
	{0x10fc5, 0x10fcb}, {0x11052, 0x1106f}, {0x110f0, 0x110f9},
	{0x11136, 0x1113f}, {0x111d0, 0x111d9}, {0x111e1, 0x111f4},
	{0x112f0, 0x112f9}, {0x11450, 0x11459}, {0x114d0, 0x114d9},
	{0x11650, 0x11659}, {0x116c0, 0x116c9}, {0x11730, 0x1173b},
	{0x118e0, 0x118f2}, {0x11950, 0x11959}, {0x11c50, 0x11c6c},
	{0x11d50, 0x11d59}, {0x11da0, 0x11da9}, {0x11fc0, 0x11fd4},
	{0x12400, 0x1246e}, {0x16a60, 0x16a69}, {0x16ac0, 0x16ac9},
	{0x16b50, 0x16b59}, {0x16b5b, 0x16b61}, {0x16e80, 0x16e96},
	{0x1d2e0, 0x1d2f3}, {0x1d360, 0x1d378}, {0x1d7ce, 0x1d7ff},
	{0x1e140, 0x1e149}, {0x1e2f0, 0x1e2f9}, {0x1e8c7, 0x1e8cf},
	{0x1e950, 0x1e959}, {0x1ec71, 0x1ecab}, {0x1ecad, 0x1ecaf},
	{0x1ecb1, 0x1ecb4}, {0x1ed01, 0x1ed2d}, {0x1ed2f, 0x1ed3d},
	{0x1f100, 0x1f10c}, {0x1fbf0, 0x1fbf9},
};
/* END GENERATED TABLES */

/* A vocabulary entry: text and its decoded piece, both in the arena. */
struct tok {
	uint32_t	off, len;		/* raw text */
	uint32_t	poff, plen;		/* piece, in t->pieces */
	float		score;
	int8_t		type;
	uint8_t		eog;
};

/* A BPE merge rule "left right" -> rank, hashed on both halves. */
struct merge {
	uint32_t	loff, llen, roff, rlen;	/* into the arena */
};

/* A token matched in the text before tokenizing (llama.cpp st_partition). */
struct special {
	int32_t		id;
	uint32_t	len;
};

struct tokenizer {
	enum tokenizer_model	 model;
	enum tokenizer_pre	 pre;
	int32_t			 n;
	struct tok		*tok;
	char			*text;		/* token and merge texts (arena) */
	char			*pieces;	/* decode output, own block */
	int32_t			*hash;		/* open addressing, -1 empty */
	uint32_t		 hmask;
	int32_t			 n_merges;
	struct merge		*merge;
	int32_t			*mhash;		/* merge ranks, -1 empty */
	uint32_t		 mmask;
	struct special		*special;	/* longest first */
	int32_t			 n_special;
	int32_t			 byte_tok[256];	/* SPM byte fallback */
	int32_t			 bos, eos, unk, eot, pad;
	int			 add_bos, add_eos, add_space_prefix, clean_spaces;
	void			*arena;
};

/* ------------------------------------------------------------ helpers */

/* errf - format a message into the caller's buffer. */
static void
errf(char *err, size_t errsz, const char *fmt, int a, int b)
{
	if (err != NULL && errsz > 0)
		snprintf(err, errsz, fmt, a, b);
}

/* fnv - FNV-1a over bytes, seeded so pairs can chain. */
static uint64_t
fnv(const char *s, size_t n, uint64_t h)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_SEED	0xcbf29ce484222325ULL

/* in_ranges - binary search of a sorted range table. */
static int
in_ranges(const struct urange *r, size_t n, uint32_t c)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c < r[mid].lo)
			hi = mid;
		else if (c > r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

enum {
	CF_LETTER = 1, CF_NUMBER = 2, CF_SPACE = 4, CF_OTHER = 8
};

/* cflags - llama.cpp's unicode_cpt_flags, reduced to what GPT-2 needs. */
static int
cflags(uint32_t c)
{
	if (c == 0x20 || (c >= 0x09 && c <= 0x0d) || c == 0x85 ||
	    c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	    c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	    c == 0x3000)
		return CF_SPACE;
	if (c < 0x80) {
		if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
			return CF_LETTER;
		if (c >= '0' && c <= '9')
			return CF_NUMBER;
		return CF_OTHER;
	}
	if (in_ranges(uc_letter, NELEM(uc_letter), c))
		return CF_LETTER;
	if (in_ranges(uc_number, NELEM(uc_number), c))
		return CF_NUMBER;
	return CF_OTHER;
}

/* utf8_len - llama.cpp unicode_len_utf8: length from the lead byte. */
static size_t
utf8_len(unsigned char c)
{
	static const size_t lookup[16] = {
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4
	};

	return lookup[c >> 4];
}

/*
 * utf8_decode - llama.cpp's unicode_cpt_from_utf8 with the caller's
 * fallback: an invalid sequence yields U+FFFD and consumes one byte.  Like
 * llama.cpp, overlong forms and surrogates are accepted; values above
 * U+10FFFF (where llama.cpp throws) also become U+FFFD.
 */
static uint32_t
utf8_decode(const unsigned char *s, size_t n, size_t *off)
{
	size_t i = *off;
	uint32_t c;

	if (!(s[i] & 0x80)) {
		*off = i + 1;
		return s[i];
	}
	if (!(s[i] & 0x40))
		goto bad;
	if (!(s[i] & 0x20)) {
		if (i + 1 >= n || (s[i + 1] & 0xc0) != 0x80)
			goto bad;
		*off = i + 2;
		return ((uint32_t)(s[i] & 0x1f) << 6) | (s[i + 1] & 0x3f);
	}
	if (!(s[i] & 0x10)) {
		if (i + 2 >= n || (s[i + 1] & 0xc0) != 0x80 ||
		    (s[i + 2] & 0xc0) != 0x80)
			goto bad;
		*off = i + 3;
		return ((uint32_t)(s[i] & 0x0f) << 12) |
		    ((uint32_t)(s[i + 1] & 0x3f) << 6) | (s[i + 2] & 0x3f);
	}
	if (!(s[i] & 0x08)) {
		if (i + 3 >= n || (s[i + 1] & 0xc0) != 0x80 ||
		    (s[i + 2] & 0xc0) != 0x80 || (s[i + 3] & 0xc0) != 0x80)
			goto bad;
		c = ((uint32_t)(s[i] & 0x07) << 18) |
		    ((uint32_t)(s[i + 1] & 0x3f) << 12) |
		    ((uint32_t)(s[i + 2] & 0x3f) << 6) | (s[i + 3] & 0x3f);
		*off = i + 4;
		return c <= 0x10ffff ? c : 0xfffd;
	}
bad:
	*off = i + 1;
	return 0xfffd;
}

/* utf8_encode - code point to UTF-8 (c <= 0x10ffff); returns the length. */
static size_t
utf8_encode(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/*
 * GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves,
 * the other 68 take U+0100 onwards in byte order.
 */
static uint32_t
byte_to_cpt(unsigned b)
{
	unsigned n = 0, c;

	if ((b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) ||
	    (b >= 0xae && b <= 0xff))
		return b;
	for (c = 0; c < b; c++)
		if (!((c >= 0x21 && c <= 0x7e) || (c >= 0xa1 && c <= 0xac) ||
		    (c >= 0xae && c <= 0xff)))
			n++;
	return 256 + n;
}

/* cpt_to_byte - the inverse of byte_to_cpt, or -1. */
static int
cpt_to_byte(uint32_t c)
{
	unsigned b;

	if (c > 0x143)
		return -1;
	for (b = 0; b < 256; b++)
		if (byte_to_cpt(b) == c)
			return (int)b;
	return -1;
}

/* ---------------------------------------------------------- vocabulary */

/* tok_text - the arena text of id. */
static const char *
tok_text(const struct tokenizer *t, int32_t id)
{
	return t->text + t->tok[id].off;
}

/* lookup - id of the token whose text is s[0..n), or -1. */
static int32_t
lookup(const struct tokenizer *t, const char *s, size_t n)
{
	uint32_t h = (uint32_t)fnv(s, n, FNV_SEED) & t->hmask;
	int32_t id;

	while ((id = t->hash[h]) >= 0) {
		if (t->tok[id].len == n && memcmp(tok_text(t, id), s, n) == 0)
			return id;
		h = (h + 1) & t->hmask;
	}
	return -1;
}

/* merge_hash - hash of a merge pair. */
static uint32_t
merge_hash(const char *l, size_t ln, const char *r, size_t rn)
{
	uint64_t h = fnv(l, ln, FNV_SEED);

	h = fnv("\x01", 1, h);
	return (uint32_t)fnv(r, rn, h);
}

/* merge_rank - rank of the merge (l, r), or -1 (llama.cpp find_bpe_rank). */
static int32_t
merge_rank(const struct tokenizer *t, const char *l, size_t ln,
    const char *r, size_t rn)
{
	uint32_t h;
	int32_t m;

	if (t->n_merges == 0)
		return -1;
	h = merge_hash(l, ln, r, rn) & t->mmask;
	while ((m = t->mhash[h]) >= 0) {
		const struct merge *e = &t->merge[m];
		if (e->llen == ln && e->rlen == rn &&
		    memcmp(t->text + e->loff, l, ln) == 0 &&
		    memcmp(t->text + e->roff, r, rn) == 0)
			return m;
		h = (h + 1) & t->mmask;
	}
	return -1;
}

/* is_byte_name - whether s is "<0xHH>"; the byte value in *b. */
static int
is_byte_name(const char *s, size_t n, unsigned *b)
{
	unsigned v = 0;
	size_t i;

	if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>')
		return 0;
	for (i = 3; i < 5; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else
			return 0;
	}
	*b = v;
	return 1;
}

/*
 * build_piece - what llama.cpp's token_to_piece(special = false) prints for
 * id; writes to out when not NULL and returns the length either way.
 */
static size_t
build_piece(const struct tokenizer *t, int32_t id, char *out)
{
	const struct tok *k = &t->tok[id];
	const char *s = tok_text(t, id);
	size_t i, n = 0;
	unsigned b;

	switch (k->type) {
	case TOKENIZER_TYPE_USER_DEFINED:
		if (out != NULL)
			memcpy(out, s, k->len);
		return k->len;
	case TOKENIZER_TYPE_NORMAL:
		break;
	case TOKENIZER_TYPE_BYTE:
		if (t->model != TOKENIZER_SPM || !is_byte_name(s, k->len, &b))
			return 0;
		if (out != NULL)
			out[0] = (char)b;
		return 1;
	default:	/* control, unknown, unused, undefined: nothing */
		return 0;
	}
	if (t->model == TOKENIZER_SPM) {
		/* llama_unescape_whitespace: U+2581 -> ' ' */
		for (i = 0; i < k->len; i++) {
			if (i + 3 <= k->len && memcmp(s + i, "\xe2\x96\x81", 3) == 0) {
				if (out != NULL)
					out[n] = ' ';
				n++;
				i += 2;
			} else {
				if (out != NULL)
					out[n] = s[i];
				n++;
			}
		}
		return n;
	}
	/* llama_decode_text: each code point back to its byte */
	for (i = 0; i < k->len; ) {
		uint32_t c = utf8_decode((const unsigned char *)s, k->len, &i);
		int by = cpt_to_byte(c);
		char u[4];
		size_t ul, j;

		if (by >= 0) {
			if (out != NULL)
				out[n] = (char)by;
			n++;
			continue;
		}
		/* "[UNK_BYTE_0x" hex(utf8) text "]", as llama.cpp writes it */
		ul = utf8_encode(c, u);
		if (out != NULL)
			memcpy(out + n, "[UNK_BYTE_0x", 12);
		n += 12;
		for (j = 0; j < ul; j++) {
			if (out != NULL)
				snprintf(out + n, 3, "%02x", (unsigned char)u[j]);
			n += 2;
		}
		if (out != NULL) {
			memcpy(out + n, s, k->len);
			out[n + k->len] = ']';
		}
		n += k->len + 1;
	}
	return n;
}

/* Token texts llama.cpp treats as end-of-generation (and forces to control). */
static const char *const eog_texts[] = {
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
	"<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>",
	"<|end_of_text|>", "<end_of_utterance>"
};

/* check_id - a special id is -1 or in range. */
static int
check_id(int32_t id, int32_t n)
{
	return id == -1 || (id >= 0 && id < n);
}

/* special_cmp - longest text first, then lowest id. */
static int
special_cmp(const void *a, const void *b)
{
	const struct special *x = a, *y = b;

	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* align8 - round up for the arena. */
static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* tokenizer_new - validate the arrays and copy them into one arena */
struct tokenizer *
tokenizer_new(const struct tokenizer_vocab *v, char *err, size_t errsz)
{
	struct tokenizer *t = NULL;
	size_t textsz = 0, hsz, msz = 0, total, off, *lens = NULL;
	int32_t i, n;
	char *base, *p;
	static const char empty_fmt[] = "[EMPTY_%d]";

	if (v == NULL || (v->model != TOKENIZER_SPM && v->model != TOKENIZER_BPE)) {
		errf(err, errsz, "tokenizer: unknown model", 0, 0);
		return NULL;
	}
	if (v->model == TOKENIZER_BPE && v->pre != TOKENIZER_PRE_GPT2) {
		errf(err, errsz, "tokenizer: unsupported BPE pre-tokenizer %d",
		    (int)v->pre, 0);
		return NULL;
	}
	n = v->n_tokens;
	if (n <= 0 || n > (1 << 26) || v->tokens == NULL) {
		errf(err, errsz, "tokenizer: bad token count %d", n, 0);
		return NULL;
	}
	if (v->n_merges < 0 || v->n_merges > (1 << 26) ||
	    (v->n_merges > 0 && v->merges == NULL)) {
		errf(err, errsz, "tokenizer: bad merge count %d", v->n_merges, 0);
		return NULL;
	}
	if (v->model == TOKENIZER_BPE && v->n_merges == 0) {
		errf(err, errsz, "tokenizer: BPE vocabulary without merges", 0, 0);
		return NULL;
	}
	if (!check_id(v->bos, n) || !check_id(v->eos, n) ||
	    !check_id(v->unk, n) || !check_id(v->eot, n) ||
	    !check_id(v->pad, n)) {
		errf(err, errsz, "tokenizer: special token id out of range "
		    "(vocabulary of %d)", n, 0);
		return NULL;
	}
	if ((v->add_bos && v->bos < 0) || (v->add_eos && v->eos < 0)) {
		errf(err, errsz, "tokenizer: add_bos/add_eos set without the "
		    "token", 0, 0);
		return NULL;
	}
	if ((lens = calloc((size_t)n, sizeof(*lens))) == NULL) {
		errf(err, errsz, "tokenizer: out of memory", 0, 0);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (v->tokens[i] == NULL && (v->token_lens == NULL ||
		    v->token_lens[i] > 0)) {
			errf(err, errsz, "tokenizer: token %d is NULL", i, 0);
			goto fail;
		}
		lens[i] = v->token_lens != NULL ? v->token_lens[i] :
		    strlen(v->tokens[i]);
		if (lens[i] > 0xffff) {
			errf(err, errsz, "tokenizer: token %d is too long", i, 0);
			goto fail;
		}
		if (v->types != NULL && (v->types[i] < 0 || v->types[i] > 6)) {
			errf(err, errsz, "tokenizer: token %d has type %d",
			    i, v->types[i]);
			goto fail;
		}
		/* empty tokens are renamed as llama.cpp does */
		textsz += (lens[i] == 0 ? sizeof(empty_fmt) + 12 : lens[i]) + 1;
	}
	for (i = 0; i < v->n_merges; i++) {
		size_t ml;

		if (v->merges[i] == NULL) {
			errf(err, errsz, "tokenizer: merge %d is NULL", i, 0);
			goto fail;
		}
		ml = v->merge_lens != NULL ? v->merge_lens[i] :
		    strlen(v->merges[i]);
		if (ml < 2 || ml > 0xffff || memchr(v->merges[i] + 1, ' ',
		    ml - 1) == NULL) {
			errf(err, errsz, "tokenizer: merge %d is not \"a b\"",
			    i, 0);
			goto fail;
		}
		textsz += ml;
	}
	for (hsz = 16; hsz < (size_t)n * 2; hsz *= 2)
		;
	if (v->n_merges > 0)
		for (msz = 16; msz < (size_t)v->n_merges * 2; msz *= 2)
			;
	/* the pieces get their own block once the texts are in place */
	total = align8(sizeof(*t)) + align8((size_t)n * sizeof(struct tok)) +
	    align8(hsz * sizeof(int32_t)) +
	    align8((size_t)v->n_merges * sizeof(struct merge)) +
	    align8(msz * sizeof(int32_t)) +
	    align8((size_t)n * sizeof(struct special)) + align8(textsz);
	if ((base = calloc(1, total)) == NULL) {
		errf(err, errsz, "tokenizer: out of memory", 0, 0);
		goto fail;
	}
	off = 0;
	t = (struct tokenizer *)(void *)base;
	off += align8(sizeof(*t));
	t->tok = (struct tok *)(void *)(base + off);
	off += align8((size_t)n * sizeof(struct tok));
	t->hash = (int32_t *)(void *)(base + off);
	off += align8(hsz * sizeof(int32_t));
	t->merge = (struct merge *)(void *)(base + off);
	off += align8((size_t)v->n_merges * sizeof(struct merge));
	t->mhash = (int32_t *)(void *)(base + off);
	off += align8(msz * sizeof(int32_t));
	t->special = (struct special *)(void *)(base + off);
	off += align8((size_t)n * sizeof(struct special));
	t->text = base + off;
	t->arena = base;
	t->model = v->model;
	t->pre = v->pre;
	t->n = n;
	t->hmask = (uint32_t)hsz - 1;
	t->mmask = msz > 0 ? (uint32_t)msz - 1 : 0;
	t->bos = v->bos;
	t->eos = v->eos;
	t->unk = v->unk;
	t->eot = v->eot;
	t->pad = v->pad;
	t->add_bos = v->add_bos != 0;
	t->add_eos = v->add_eos != 0;
	t->add_space_prefix = v->add_space_prefix != 0;
	t->clean_spaces = v->clean_spaces != 0;
	memset(t->hash, 0xff, hsz * sizeof(int32_t));
	if (msz > 0)
		memset(t->mhash, 0xff, msz * sizeof(int32_t));

	t->n_merges = v->n_merges;
	p = t->text;
	for (i = 0; i < n; i++) {
		struct tok *k = &t->tok[i];
		uint32_t h;
		int32_t o;
		unsigned b;

		k->off = (uint32_t)(p - t->text);
		if (lens[i] == 0) {
			int w = snprintf(p, sizeof(empty_fmt) + 12, empty_fmt, i);
			k->len = (uint32_t)w;
		} else {
			memcpy(p, v->tokens[i], lens[i]);
			k->len = (uint32_t)lens[i];
		}
		p += k->len + 1;
		k->score = v->scores != NULL ? v->scores[i] : 0.0f;
		k->type = (int8_t)(v->types != NULL ? v->types[i] :
		    TOKENIZER_TYPE_NORMAL);
		if (k->type == TOKENIZER_TYPE_BYTE && v->model == TOKENIZER_SPM &&
		    !is_byte_name(tok_text(t, i), k->len, &b)) {
			errf(err, errsz, "tokenizer: byte token %d is not "
			    "spelt <0xHH>", i, 0);
			goto fail;
		}
		h = (uint32_t)fnv(tok_text(t, i), k->len, FNV_SEED) & t->hmask;
		while ((o = t->hash[h]) >= 0) {
			if (t->tok[o].len == k->len && memcmp(tok_text(t, o),
			    tok_text(t, i), k->len) == 0) {
				errf(err, errsz, "tokenizer: tokens %d and %d "
				    "are the same", o, i);
				goto fail;
			}
			h = (h + 1) & t->hmask;
		}
		t->hash[h] = i;
	}
	for (i = 0; i < v->n_merges; i++) {
		size_t ml = v->merge_lens != NULL ? v->merge_lens[i] :
		    strlen(v->merges[i]);
		const char *sp = memchr(v->merges[i] + 1, ' ', ml - 1);
		struct merge *e = &t->merge[i];
		uint32_t h;

		memcpy(p, v->merges[i], ml);
		e->loff = (uint32_t)(p - t->text);
		e->llen = (uint32_t)(sp - v->merges[i]);
		e->roff = e->loff + e->llen + 1;
		e->rlen = (uint32_t)(ml - e->llen - 1);
		p += ml;
		/* a duplicate keeps its first rank (std::map emplace) */
		if (merge_rank(t, t->text + e->loff, e->llen, t->text + e->roff,
		    e->rlen) >= 0)
			continue;
		h = merge_hash(t->text + e->loff, e->llen, t->text + e->roff,
		    e->rlen) & t->mmask;
		while (t->mhash[h] >= 0)
			h = (h + 1) & t->mmask;
		t->mhash[h] = i;
	}

	for (i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < NELEM(eog_texts); j++)
			if (t->tok[i].len == strlen(eog_texts[j]) &&
			    memcmp(tok_text(t, i), eog_texts[j],
			    t->tok[i].len) == 0) {
				t->tok[i].eog = 1;
				t->tok[i].type = TOKENIZER_TYPE_CONTROL;
			}
	}
	if (t->eos >= 0)
		t->tok[t->eos].eog = 1;
	if (t->eot >= 0)
		t->tok[t->eot].eog = 1;

	if (v->model == TOKENIZER_SPM) {
		for (i = 0; i < 256; i++) {
			char name[8], one = (char)i;

			snprintf(name, sizeof(name), "<0x%02X>", (unsigned)i);
			t->byte_tok[i] = lookup(t, name, 6);
			if (t->byte_tok[i] < 0)
				t->byte_tok[i] = lookup(t, &one, 1);
			if (t->byte_tok[i] < 0) {
				errf(err, errsz, "tokenizer: no <0x%02X> token "
				    "for SentencePiece byte fallback", i, 0);
				goto fail;
			}
		}
	}
	for (i = 0; i < n; i++) {
		int ty = t->tok[i].type;

		if (ty == TOKENIZER_TYPE_CONTROL || ty == TOKENIZER_TYPE_UNKNOWN ||
		    ty == TOKENIZER_TYPE_USER_DEFINED) {
			t->special[t->n_special].id = i;
			t->special[t->n_special].len = t->tok[i].len;
			t->n_special++;
		}
	}
	qsort(t->special, (size_t)t->n_special, sizeof(*t->special),
	    special_cmp);
	free(lens);
	lens = NULL;

	/* pieces: their own block, sized by a first pass */
	{
		size_t psz = 0, pl;
		char *q;

		for (i = 0; i < n; i++)
			psz += build_piece(t, i, NULL);
		if ((t->pieces = malloc(psz + 1)) == NULL) {
			errf(err, errsz, "tokenizer: out of memory", 0, 0);
			goto fail;
		}
		q = t->pieces;
		for (i = 0; i < n; i++) {
			pl = build_piece(t, i, q);
			t->tok[i].poff = (uint32_t)(q - t->pieces);
			t->tok[i].plen = (uint32_t)pl;
			q += pl;
		}
		*q = '\0';
	}
	return t;

fail:
	free(lens);
	tokenizer_free(t);
	return NULL;
}

/* tokenizer_free - release the arena and the pieces */
void
tokenizer_free(struct tokenizer *t)
{
	if (t == NULL)
		return;
	free(t->pieces);
	free(t->arena);
}

/* -------------------------------------------------------------- encode */

/* A symbol of the merge loops (llama.cpp llm_symbol); text is an offset. */
struct sym {
	int32_t		prev, next;
	uint32_t	text, n;
};

/* A candidate merge (llm_bigram_spm / llm_bigram_bpe). */
struct bigram {
	int32_t		left, right;
	float		score;		/* SPM: higher first */
	int32_t		rank;		/* BPE: lower first */
	uint32_t	size;
};

/* A piece of the input: raw text (id -1) or a token matched whole. */
struct frag {
	uint32_t	off, len;
	int32_t		id;
};

/* Per-call scratch and output state. */
struct work {
	const struct tokenizer	*t;
	char			*buf;
	struct sym		*sym;
	struct bigram		*heap;
	size_t			 nheap;
	uint32_t		*cpt;
	struct frag		*frag, *frag2;
	size_t			 nfrag;
	int32_t			*out;
	int			 max_out, n;
};

/* emit - append an id, counting past max_out so overflow is detectable. */
static void
emit(struct work *w, int32_t id)
{
	if (w->n < w->max_out)
		w->out[w->n] = id;
	if (w->n < INT32_MAX)
		w->n++;
}

/* better - whether bigram a leaves the queue before b (llama.cpp order). */
static int
better(const struct tokenizer *t, const struct bigram *a,
    const struct bigram *b)
{
	if (t->model == TOKENIZER_SPM) {
		if (a->score != b->score)
			return a->score > b->score;
	} else if (a->rank != b->rank)
		return a->rank < b->rank;
	return a->left < b->left;
}

/* heap_push - add to the binary max-heap. */
static void
heap_push(struct work *w, const struct bigram *b)
{
	size_t i = w->nheap++, parent;

	w->heap[i] = *b;
	while (i > 0) {
		parent = (i - 1) / 2;
		if (!better(w->t, &w->heap[i], &w->heap[parent]))
			break;
		struct bigram tmp = w->heap[i];
		w->heap[i] = w->heap[parent];
		w->heap[parent] = tmp;
		i = parent;
	}
}

/* heap_pop - remove the best bigram into *b. */
static void
heap_pop(struct work *w, struct bigram *b)
{
	size_t i = 0, l, r, best;

	*b = w->heap[0];
	w->heap[0] = w->heap[--w->nheap];
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		best = i;
		if (l < w->nheap && better(w->t, &w->heap[l], &w->heap[best]))
			best = l;
		if (r < w->nheap && better(w->t, &w->heap[r], &w->heap[best]))
			best = r;
		if (best == i)
			break;
		struct bigram tmp = w->heap[i];
		w->heap[i] = w->heap[best];
		w->heap[best] = tmp;
		i = best;
	}
}

/* split_chars - symbols of buf[0..n), one per UTF-8 lead byte. */
static int32_t
split_chars(struct work *w, size_t n)
{
	int32_t count = 0;
	size_t off = 0, l;

	while (off < n) {
		l = utf8_len((unsigned char)w->buf[off]);
		if (l > n - off)
			l = n - off;
		w->sym[count].text = (uint32_t)off;
		w->sym[count].n = (uint32_t)l;
		w->sym[count].prev = count - 1;
		off += l;
		w->sym[count].next = off == n ? -1 : count + 1;
		count++;
	}
	return count;
}

/* spm_add - llm_tokenizer_spm_session::try_add_bigram */
static void
spm_add(struct work *w, int32_t left, int32_t right)
{
	struct bigram b;
	int32_t id;

	if (left == -1 || right == -1)
		return;
	b.size = w->sym[left].n + w->sym[right].n;
	id = lookup(w->t, w->buf + w->sym[left].text, b.size);
	if (id < 0)
		return;
	b.left = left;
	b.right = right;
	b.score = w->t->tok[id].score;
	b.rank = 0;
	heap_push(w, &b);
}

/* bpe_add - llm_tokenizer_bpe_session::add_new_bigram */
static void
bpe_add(struct work *w, int32_t left, int32_t right)
{
	const struct sym *l, *r;
	struct bigram b;

	if (left == -1 || right == -1)
		return;
	l = &w->sym[left];
	r = &w->sym[right];
	b.rank = merge_rank(w->t, w->buf + l->text, l->n, w->buf + r->text,
	    r->n);
	if (b.rank < 0)
		return;
	b.left = left;
	b.right = right;
	b.size = l->n + r->n;
	b.score = 0;
	heap_push(w, &b);
}

/*
 * merge - the loop SPM and BPE share: queue every adjacent pair that add
 * accepts, then repeatedly join the best pair and queue its new
 * neighbours.  A popped pair whose sides changed since it was queued is
 * stale and skipped (llama.cpp compares the joined length the same way).
 */
typedef void (*bigram_add_fn)(struct work *, int32_t, int32_t);

static void
merge(struct work *w, int32_t nsym, bigram_add_fn add)
{
	struct bigram b;

	w->nheap = 0;
	for (int32_t i = 1; i < nsym; i++)
		add(w, i - 1, i);
	while (w->nheap > 0) {
		struct sym *l, *r;

		heap_pop(w, &b);
		l = &w->sym[b.left];
		r = &w->sym[b.right];
		if (l->n == 0 || r->n == 0 || l->n + r->n != b.size)
			continue;
		l->n += r->n;
		r->n = 0;
		l->next = r->next;
		if (r->next >= 0)
			w->sym[r->next].prev = b.left;
		add(w, l->prev, b.left);
		add(w, b.left, l->next);
	}
}

/* spm_tokenize - llm_tokenizer_spm_session::tokenize on buf[0..n) */
static void
spm_tokenize(struct work *w, size_t n)
{
	const struct tokenizer *t = w->t;
	int32_t nsym, i, id;
	uint32_t j;

	nsym = split_chars(w, n);
	if (nsym == 0)
		return;
	merge(w, nsym, spm_add);
	/*
	 * resegment: a merged symbol is always a token (it was only queued
	 * because it was), so rev_merge never applies; a lone character
	 * that is no token goes out as byte tokens.
	 */
	for (i = 0; i != -1; i = w->sym[i].next) {
		const struct sym *s = &w->sym[i];

		id = lookup(t, w->buf + s->text, s->n);
		if (id >= 0) {
			emit(w, id);
			continue;
		}
		for (j = 0; j < s->n; j++)
			emit(w, t->byte_tok[(unsigned char)w->buf[s->text + j]]);
	}
}

/* bpe_word - byte-encode one pre-tokenized word and merge it by rank */
static void
bpe_word(struct work *w, const uint32_t *c, size_t nc)
{
	const struct tokenizer *t = w->t;
	size_t n = 0, i, k;
	int32_t nsym, s, id;
	char u[4];

	for (i = 0; i < nc; i++) {
		size_t ul = utf8_encode(c[i], u);

		for (k = 0; k < ul; k++)
			n += utf8_encode(byte_to_cpt((unsigned char)u[k]),
			    w->buf + n);
	}
	nsym = split_chars(w, n);
	merge(w, nsym, bpe_add);
	for (s = 0; s < nsym; s++) {
		const struct sym *y = &w->sym[s];

		if (y->n == 0)
			continue;
		id = lookup(t, w->buf + y->text, y->n);
		if (id >= 0) {
			emit(w, id);
			continue;
		}
		/* llama.cpp's fallback: each byte of the encoded text alone */
		for (k = 0; k < y->n; k++) {
			id = lookup(t, w->buf + y->text + k, 1);
			if (id >= 0)
				emit(w, id);
		}
	}
}

/* flags_at - flags of code point p, 0 past the end (llama.cpp _get_flags). */
static int
flags_at(const uint32_t *c, size_t n, size_t p)
{
	return p < n ? cflags(c[p]) : 0;
}

/*
 * bpe_tokenize - unicode_regex_split_custom_gpt2 over the code points of
 * text, each word then merged by bpe_word.  The regex it implements:
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 */
static void
bpe_tokenize(struct work *w, const char *text, size_t len)
{
	const uint32_t *c = w->cpt;
	size_t n = 0, off = 0, pos, start, nws;
	uint32_t cp;
	int fl, fl2;

	while (off < len)
		w->cpt[n++] = utf8_decode((const unsigned char *)text, len, &off);
	for (pos = 0; pos < n; ) {
		start = pos;
		cp = c[pos];
		fl = flags_at(c, n, pos);
		if (cp == '\'' && pos + 1 < n) {
			uint32_t nx = c[pos + 1];
			if (nx == 's' || nx == 't' || nx == 'm' || nx == 'd') {
				pos += 2;
				goto word;
			}
			if (pos + 2 < n) {
				uint32_t nn = c[pos + 2];
				if ((nx == 'r' && nn == 'e') ||
				    (nx == 'v' && nn == 'e') ||
				    (nx == 'l' && nn == 'l')) {
					pos += 3;
					goto word;
				}
			}
		}
		fl2 = cp == ' ' ? flags_at(c, n, pos + 1) : fl;
		if (fl2 & CF_LETTER) {
			pos += cp == ' ';
			while (fl2 & CF_LETTER)
				fl2 = flags_at(c, n, ++pos);
			goto word;
		}
		if (fl2 & CF_NUMBER) {
			pos += cp == ' ';
			while (fl2 & CF_NUMBER)
				fl2 = flags_at(c, n, ++pos);
			goto word;
		}
		if (fl2 & CF_OTHER) {
			pos += cp == ' ';
			while (fl2 & CF_OTHER)
				fl2 = flags_at(c, n, ++pos);
			goto word;
		}
		nws = 0;
		while (flags_at(c, n, pos + nws) & CF_SPACE)
			nws++;
		if (nws > 1 && pos + nws < n) {	/* \s+(?!\S) */
			pos += nws - 1;
			goto word;
		}
		if (nws > 0) {			/* \s+ */
			pos += nws;
			goto word;
		}
		pos++;				/* no match */
word:
		bpe_word(w, c + start, pos - start);
	}
}

/* find_bytes - first occurrence of needle in hay[from..to), or -1. */
static long
find_bytes(const char *hay, size_t from, size_t to, const char *needle,
    size_t nl)
{
	size_t i;

	if (nl == 0 || to < from || to - from < nl)
		return -1;
	for (i = from; i + nl <= to; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nl) == 0)
			return (long)i;
	return -1;
}

/*
 * partition - llama.cpp's tokenizer_st_partition: each special token,
 * longest first, is cut out of the raw fragments wherever it occurs.
 * Control and unknown tokens only with TOKENIZER_PARSE_SPECIAL.
 */
static void
partition(struct work *w, const char *text, size_t len, int parse_special)
{
	const struct tokenizer *t = w->t;
	int32_t s;
	size_t f, nf;
	struct frag *tmp;

	w->nfrag = 0;
	if (len == 0)
		return;
	w->frag[0].off = 0;
	w->frag[0].len = (uint32_t)len;
	w->frag[0].id = -1;
	w->nfrag = 1;
	for (s = 0; s < t->n_special; s++) {
		int32_t id = t->special[s].id;
		const char *tt = tok_text(t, id);
		size_t tl = t->tok[id].len;
		int ty = t->tok[id].type;

		if (!parse_special && (ty == TOKENIZER_TYPE_CONTROL ||
		    ty == TOKENIZER_TYPE_UNKNOWN))
			continue;
		nf = 0;
		for (f = 0; f < w->nfrag; f++) {
			struct frag fr = w->frag[f];
			size_t pos, end;
			long m;

			if (fr.id >= 0) {
				w->frag2[nf++] = fr;
				continue;
			}
			pos = fr.off;
			end = (size_t)fr.off + fr.len;
			while ((m = find_bytes(text, pos, end, tt, tl)) >= 0) {
				if ((size_t)m > pos) {
					w->frag2[nf].off = (uint32_t)pos;
					w->frag2[nf].len = (uint32_t)((size_t)m - pos);
					w->frag2[nf++].id = -1;
				}
				w->frag2[nf].off = (uint32_t)m;
				w->frag2[nf].len = (uint32_t)tl;
				w->frag2[nf++].id = id;
				pos = (size_t)m + tl;
			}
			if (pos < end) {
				w->frag2[nf].off = (uint32_t)pos;
				w->frag2[nf].len = (uint32_t)(end - pos);
				w->frag2[nf++].id = -1;
			}
		}
		tmp = w->frag;
		w->frag = w->frag2;
		w->frag2 = tmp;
		w->nfrag = nf;
	}
}

/* tokenizer_encode - llama_vocab::impl::tokenize for SPM and BPE */
int
tokenizer_encode(const struct tokenizer *t, const char *text, size_t len,
    int flags, int32_t *out, int max_out)
{
	struct work w;
	size_t f, need, i, n;
	char *mem;
	int prev_special = 1;

	if (t == NULL || (text == NULL && len > 0) || max_out < 0 ||
	    (out == NULL && max_out > 0) || len > (size_t)INT32_MAX / 16)
		return -1;
	memset(&w, 0, sizeof(w));
	w.t = t;
	w.out = out;
	w.max_out = max_out;
	/*
	 * One block: the working text (SPM: 3 bytes per space plus the
	 * prefix; BPE: at most 2 encoded bytes per byte of a re-encoded code
	 * point, 6 per invalid byte), symbols, a heap of at most 3 entries
	 * per symbol, code points and two fragment lists.
	 */
	n = 6 * len + 8;
	need = align8(n) + align8(n * sizeof(struct sym)) +
	    align8(3 * n * sizeof(struct bigram)) +
	    align8((len + 1) * sizeof(uint32_t)) +
	    2 * align8((2 * len + 2) * sizeof(struct frag));
	if ((mem = malloc(need)) == NULL)
		return -1;
	w.buf = mem;
	mem += align8(n);
	w.sym = (struct sym *)(void *)mem;
	mem += align8(n * sizeof(struct sym));
	w.heap = (struct bigram *)(void *)mem;
	mem += align8(3 * n * sizeof(struct bigram));
	w.cpt = (uint32_t *)(void *)mem;
	mem += align8((len + 1) * sizeof(uint32_t));
	w.frag = (struct frag *)(void *)mem;
	mem += align8((2 * len + 2) * sizeof(struct frag));
	w.frag2 = (struct frag *)(void *)mem;

	partition(&w, text, len, (flags & TOKENIZER_PARSE_SPECIAL) != 0);
	if ((flags & TOKENIZER_ADD_SPECIAL) && t->add_bos)
		emit(&w, t->bos);
	for (f = 0; f < w.nfrag; f++) {
		const struct frag *fr = &w.frag[f];

		if (fr->id >= 0) {
			emit(&w, fr->id);
			prev_special = 1;
			continue;
		}
		if (t->model == TOKENIZER_BPE) {
			bpe_tokenize(&w, text + fr->off, fr->len);
			continue;
		}
		/* llama_escape_whitespace, after the optional " " prefix */
		n = 0;
		if (t->add_space_prefix && prev_special) {
			memcpy(w.buf, "\xe2\x96\x81", 3);
			n = 3;
		}
		for (i = 0; i < fr->len; i++) {
			if (text[fr->off + i] == ' ') {
				memcpy(w.buf + n, "\xe2\x96\x81", 3);
				n += 3;
			} else
				w.buf[n++] = text[fr->off + i];
		}
		spm_tokenize(&w, n);
		prev_special = 0;
	}
	if ((flags & TOKENIZER_ADD_SPECIAL) && t->add_eos)
		emit(&w, t->eos);
	free(w.buf);
	return w.n > max_out ? -1 : w.n;
}

/* -------------------------------------------------------------- decode */

/* tokenizer_piece - the cached piece of id */
const char *
tokenizer_piece(const struct tokenizer *t, int32_t id, size_t *len)
{
	if (t == NULL || id < 0 || id >= t->n)
		return NULL;
	*len = t->tok[id].plen;
	return t->pieces + t->tok[id].poff;
}

/* clean - llama.cpp's clean_spaces passes over s[0..total); new length. */
static size_t
clean(char *text, size_t total)
{
	size_t i, total1, total2, total3;
	char x, x1, x2;

	/* " ?", " !", " .", " ," lose the space */
	total1 = total;
	total = total ? 1 : 0;
	for (i = 1; i < total1; ++i) {
		x = text[i];
		if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' ||
		    x == ','))
			total--;
		text[total++] = x;
	}
	/* " ' " becomes "'" */
	total2 = total;
	total = total ? 1 : 0;
	for (i = 1; i < total2; ++i) {
		x = text[i];
		if (x == '\'' && i + 1 < total2 && text[i - 1] == ' ' &&
		    text[i + 1] == ' ') {
			total--;
			text[++i] = '\0';
		}
		text[total++] = x;
	}
	/* " 's", " 'm", " 're", " 've" lose the space */
	total3 = total;
	total = total ? 1 : 0;
	for (i = 1; i < total3; ++i) {
		x = text[i];
		if (text[i - 1] == ' ' && x == '\'' && i + 1 < total3) {
			x1 = text[i + 1];
			if (x1 == 's' || x1 == 'm')
				total--;
			else if (i + 2 < total3) {
				x2 = text[i + 2];
				if ((x1 == 'r' && x2 == 'e') ||
				    (x1 == 'v' && x2 == 'e'))
					total--;
			}
		}
		text[total++] = x;
	}
	return total;
}

/* tokenizer_decode - llama_detokenize(remove_special=0, unparse_special=0) */
int
tokenizer_decode(const struct tokenizer *t, const int32_t *ids, int n,
    char *out, size_t outsz)
{
	size_t total = 0, pl;
	const char *p;
	int i, strip;

	if (t == NULL || n < 0 || (ids == NULL && n > 0) || out == NULL ||
	    outsz == 0)
		return -1;
	strip = t->add_space_prefix;
	for (i = 0; i < n; i++) {
		if ((p = tokenizer_piece(t, ids[i], &pl)) == NULL)
			return -1;
		if (strip && pl > 0 && p[0] == ' ') {
			p++;
			pl--;
		}
		strip = 0;
		if (pl >= outsz - total)
			return -1;
		memcpy(out + total, p, pl);
		total += pl;
	}
	if (t->clean_spaces)
		total = clean(out, total);
	out[total] = '\0';
	return total > INT32_MAX ? -1 : (int)total;
}

/* tokenizer_utf8_complete - drop a trailing incomplete UTF-8 sequence */
size_t
tokenizer_utf8_complete(const char *s, size_t len)
{
	size_t i, back;

	/* look back at most 3 bytes for a lead byte */
	for (back = 1; back <= 3 && back <= len; back++) {
		unsigned char c = (unsigned char)s[len - back];
		if ((c & 0xc0) == 0x80)
			continue;	/* continuation: keep looking */
		if (c < 0x80)
			return len;
		i = utf8_len(c);
		return i > back ? len - back : len;
	}
	return len;
}

/* ----------------------------------------------------------- accessors */

/* tokenizer_token_text - the raw vocabulary string */
const char *
tokenizer_token_text(const struct tokenizer *t, int32_t id, size_t *len)
{
	if (t == NULL || id < 0 || id >= t->n)
		return NULL;
	*len = t->tok[id].len;
	return tok_text(t, id);
}

/* tokenizer_token_type - the (possibly overridden) token type */
int
tokenizer_token_type(const struct tokenizer *t, int32_t id)
{
	if (t == NULL || id < 0 || id >= t->n)
		return -1;
	return t->tok[id].type;
}

/* tokenizer_find - exact text lookup */
int32_t
tokenizer_find(const struct tokenizer *t, const char *s, size_t len)
{
	if (t == NULL || (s == NULL && len > 0))
		return -1;
	return lookup(t, s, len);
}

/* tokenizer_bos - the BOS id */
int32_t
tokenizer_bos(const struct tokenizer *t)
{
	return t->bos;
}

/* tokenizer_eos - the EOS id */
int32_t
tokenizer_eos(const struct tokenizer *t)
{
	return t->eos;
}

/* tokenizer_n_vocab - the number of tokens */
int32_t
tokenizer_n_vocab(const struct tokenizer *t)
{
	return t->n;
}

/* tokenizer_add_bos - whether ADD_SPECIAL prepends BOS */
int
tokenizer_add_bos(const struct tokenizer *t)
{
	return t->add_bos;
}

/* tokenizer_model - SPM or BPE */
enum tokenizer_model
tokenizer_model(const struct tokenizer *t)
{
	return t->model;
}

/* tokenizer_is_eog - end of generation */
int
tokenizer_is_eog(const struct tokenizer *t, int32_t id)
{
	return t != NULL && id >= 0 && id < t->n && t->tok[id].eog;
}
