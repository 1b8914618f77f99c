/* projects.c: project-name extraction (see ps_projects.h).
 *
 * The paragraph is decoded into an array of code points with all whitespace
 * dropped (PDF extraction leaves spaces and line breaks inside words), and
 * five rules propose candidate names as [start, end) ranges of that array:
 *
 *   1. quoted names “…” / "…" / 「…」 that look like proper names rather
 *      than slogans (no enumeration commas, not a numeral phrase such as
 *      “十四五”, not followed by a word that marks a slogan: 要求, 理念 …);
 *   2. plan documents in 《…》;
 *   3. names ending in a name suffix (产业园, 小镇, 湿地, 工程 …) whose left
 *      boundary is found by walking left until punctuation, a verb such as
 *      建设 / 推进 / 打造, a function word, or a quantity (184个);
 *   4. enumerations "A、B和C等[一批]<category>" (等重点项目, 等创新平台 …)
 *      and short clauses "A、B<completion verb>" (…竣工, …开业运营), whose
 *      items are names even without a suffix (not when a specific word
 *      between 等 and the category marks concepts: 等资金项目);
 *   5. road and line names (高王路, 河大公路, 京沪二通道) only in a
 *      construction context: strong left boundary, then 建设/连接/、 ….
 *
 * Every candidate then passes a generic-phrase filter: a name whose
 * modifier is made only of generic words (重点项目, 一批项目, 各类平台,
 * 服务中心) or that carries a quantity is dropped.  All word lists are
 * small static tables gathered in the "Rule tables" section below; there
 * are no project names in them.  Candidates are reported by start position,
 * each distinct string once.  No global mutable state. */
#include "ps_projects.h"
#include "ps_error.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Rule tables                                                         */
/* ------------------------------------------------------------------ */

typedef struct suffix_rule {
  const char *word;
  int kind;
  int weak; /* 1: a generic head word (项目, 平台 …): needs a longer, specific
             * modifier; 2: a one-character head (谷) taken only inside a
             * list joined by 、 (生物谷、智谷和…) */
} suffix_rule;

/* Words names of projects, parks, platforms and initiatives end in.  Matched
 * longest first at each end position. */
static const suffix_rule SUFFIXES[] = {
  {"产业园", PS_PROJ_PARK, 0},    {"科技园", PS_PROJ_PARK, 0},
  {"创新园", PS_PROJ_PARK, 0},    {"工业园", PS_PROJ_PARK, 0},
  {"产业新城", PS_PROJ_PROJECT, 0}, {"新城", PS_PROJ_PROJECT, 0},
  {"园区", PS_PROJ_PARK, 1},      {"分园", PS_PROJ_PARK, 0},
  {"基地", PS_PROJ_PLATFORM, 1},  {"小镇", PS_PROJ_PROJECT, 0},
  {"项目", PS_PROJ_PROJECT, 1},   {"平台", PS_PROJ_PLATFORM, 1},
  {"中心", PS_PROJ_PLATFORM, 1},  {"分中心", PS_PROJ_PLATFORM, 0},
  {"示范区", PS_PROJ_PARK, 0},    {"先导区", PS_PROJ_PARK, 0},
  {"创新区", PS_PROJ_PARK, 0},    {"共享区", PS_PROJ_INITIATIVE, 0},
  {"蓄滞洪区", PS_PROJ_PROJECT, 0}, {"生态港", PS_PROJ_PARK, 0},
  {"湿地", PS_PROJ_PARK, 0},      {"公园", PS_PROJ_PARK, 0},
  {"乐园", PS_PROJ_PROJECT, 0},   {"铁路", PS_PROJ_PROJECT, 0},
  {"城际", PS_PROJ_PROJECT, 0},   {"高速", PS_PROJ_PROJECT, 0},
  {"出入口", PS_PROJ_PROJECT, 0}, {"工程", PS_PROJ_PROJECT, 1},
  {"广场", PS_PROJ_PROJECT, 0},   {"商厦", PS_PROJ_PROJECT, 0},
  {"商圈", PS_PROJ_PROJECT, 0},   {"街区", PS_PROJ_PROJECT, 0},
  {"酒店", PS_PROJ_PROJECT, 0},   {"典藏馆", PS_PROJ_PROJECT, 0},
  {"射击馆", PS_PROJ_PROJECT, 0}, {"医院", PS_PROJ_PROJECT, 1},
  {"学校", PS_PROJ_PROJECT, 1},   {"中小学", PS_PROJ_PROJECT, 0},
  {"分校", PS_PROJ_PROJECT, 0},
  {"污水处理厂", PS_PROJ_PROJECT, 0}, {"污水厂", PS_PROJ_PROJECT, 0},
  {"水厂", PS_PROJ_PROJECT, 0},   {"枢纽", PS_PROJ_PROJECT, 0},
  {"研究院", PS_PROJ_PLATFORM, 0}, {"实验室", PS_PROJ_PLATFORM, 1},
  {"母基金", PS_PROJ_PLATFORM, 0}, {"引导基金", PS_PROJ_PLATFORM, 0},
  {"会客厅", PS_PROJ_PLATFORM, 0}, {"主厅", PS_PROJ_PLATFORM, 0},
  {"走廊", PS_PROJ_PROJECT, 0},   {"文化带", PS_PROJ_PROJECT, 0},
  {"风貌带", PS_PROJ_PROJECT, 0}, {"发展带", PS_PROJ_PROJECT, 0},
  {"生态廊道", PS_PROJ_PROJECT, 0}, {"共同体", PS_PROJ_INITIATIVE, 1},
  {"洽谈会", PS_PROJ_INITIATIVE, 0}, {"嘉年华", PS_PROJ_INITIATIVE, 0},
  {"巡展", PS_PROJ_INITIATIVE, 0}, {"联盟", PS_PROJ_PLATFORM, 1},
  {"三年行动", PS_PROJ_INITIATIVE, 0}, {"行动计划", PS_PROJ_INITIATIVE, 0},
  {"倍增计划", PS_PROJ_INITIATIVE, 0}, {"公园城市", PS_PROJ_INITIATIVE, 0},
  {"谷", PS_PROJ_PARK, 2},
};

/* Verbs and adverbs after which a name starts ("启动|精准医疗科技产业园").
 * The rightmost one before a suffix wins. */
static const char *const LEFT_VERBS[] = {
  "建设", "启动", "推进", "推动", "引进", "打造", "实施", "加快", "建成",
  "开展", "设立", "创设", "成立", "依托", "深化", "推广", "举办", "筹办",
  "完成", "新建", "提升", "优化", "用好", "运用", "做强", "开通",
  "增设", "争取", "规划", "谋划", "策划", "搭建", "利用", "突出", "发挥",
  "构建", "创建", "获批", "落实", "围绕", "聚焦", "支持", "培育", "做好",
  "积极", "全力", "着力", "大力", "全面", "深入", "持续", "高标准", "重点",
  "加强", "强化", "完善", "巩固", "按下", "实现", "开工", "投用", "建立",
  "储备了", "引进了", "储备", "保障", "入驻", "带动", "服务", "承接",
  "配合", "新增", "认定", "入选", "获评", "开办", "筹建", "组建",
  "参与", "融入", "对接", "申报", "争创", "成功", "形成", "拓展", "统筹",
  "继续", "进一步", "加速", "有序", "扎实", "稳步", "以及", "其中", "包括",
  "通过", "经过", "作为", "成为", "打响", "擦亮", "叫响", "创响",
  "探索", "用足", "调整", "争当", "着眼", "列入", "纳入", "加大", "设置",
  "壮大", "做实", "承担", "健全", "制定", "孵化", "开发", "招引", "论证",
  "抓实", "促进", "吸引", "力争", "打通", "整合", "依靠", "借助", "鼓励",
  "引导", "引入", "布局", "共建", "签约", "落户", "建好", "管好", "用活",
  "盘活", "激活", "推出", "开设", "保护", "修复", "治理", "整治", "召开",
  "首届", "以上", "以下", "之一", "确保", "加紧", "抓好", "办好", "完成了",
  "发行", "促成", "结合", "编制", "协调", "力促", "借鉴", "扩建", "改造",
  "撬动", "上线", "联动", "即", "编制", "升级", "高质量",
};

/* Verbs that are part of a name when followed by these words
 * ("国有建设用地…平台"), so they do not end the left walk there. */
static const char *const NOT_VERB_AFTER[] = {"用地", "单位", "工程"};

/* Verbs that, right before a suffix word, are part of the head noun
 * (服务平台, 运营中心, 保护与修复工程) rather than the verb governing it. */
static const char *const NOMINAL_VERBS[] = {
  "服务", "保护", "修复", "治理", "开发", "孵化", "改造", "提升", "建设",
  "管理", "运营", "创新", "发展", "交易", "规划", "研发", "转化", "合作",
  "更新", "改建", "拓宽", "整治", "培育", "带动",
};

/* Verbs that govern a programme (实施|优化营商环境三年行动计划), and verbs
 * that, right after one of them, open the programme's name rather than
 * ending the left walk. */
static const char *const PROGRAMME_VERBS[] = {"实施", "推进", "开展", "启动", "落实"};
static const char *const PROGRAMME_HEAD_VERBS[] = {
  "优化", "提升", "改善", "加强", "推动", "促进", "深化",
};

/* Words right after a name that end it (…项目|建设, …医院|竣工): a name
 * followed by one of these is not nested in a longer name. */
static const char *const POST_NAME_WORDS[] = {
  "建设", "开工", "竣工", "投运", "投用", "纳入", "入驻", "上线", "运营",
  "获批", "获得", "正式", "成功", "加快", "提速", "启动", "前期", "规划",
  "投入", "建成", "开业", "开通", "项目", "工作", "全面", "实现", "顺利",
  "列入", "创建", "通过", "落地", "招商", "为", "等", "和", "与", "及",
  "的", "在", "已", "将", "并", "是", "也", "都", "被", "向", "对", "以",
};

/* Single characters that end the left walk: function words that never
 * start a name. */
static const char *const LEFT_STOP_CHARS = "的和与及或等在将把由从向对为以于了是并、";

/* Words a modifier may be made of without being specific: a name made only
 * of these plus its suffix (重点项目, 一批项目, 各类平台, 服务中心) is generic. */
static const char *const GENERIC_WORDS[] = {
  "重点", "一批", "各类", "各种", "各", "优质", "创新", "服务", "重大",
  "产业", "相关", "新", "大型", "示范", "特色", "市级", "区级", "国家级",
  "省级", "国家", "全国", "全市", "全区", "现代", "综合", "公共", "基础",
  "配套", "民生", "政府", "投资", "招商", "在建", "新建", "储备", "标志性",
  "高质量", "龙头", "数字", "农业", "工业", "科技", "商业", "文化", "旅游",
  "生态", "环保", "水利", "交通", "基础设施", "孵化", "研发", "试点",
  "开放", "载体", "功能", "技改", "产业链", "城市", "乡村", "农村", "社区",
  "镇村", "专项", "改造", "提升", "建设", "发展", "优秀", "高端", "先进",
  "大", "小", "中", "高", "好", "多", "该", "本", "其", "此", "这些", "上述",
  "一", "个", "项", "新型", "中小", "企业", "政务", "便民", "主题", "特色",
  "实体", "落地", "外资", "内资", "续建", "新开工", "竣工", "亿元", "万元",
  "以上", "超", "区", "市", "镇", "街", "村", "级", "类", "型", "性", "化",
  "智能", "智慧", "绿色", "低碳", "安全", "应急", "信息", "数据", "网络",
  "工作", "管理", "运营", "平台", "中心", "项目", "工程", "基地", "园区",
  "研究", "合作", "协同", "一体化", "两", "三", "四", "五", "六", "七", "八",
  "九", "十", "若干", "部分", "全部", "所有", "每个", "主导", "支柱",
  "战略性", "新兴", "未来", "传统", "优势", "骨干", "领军", "头部",
  "城际", "轨道", "体育", "教育", "医疗", "技术", "核心",
};

/* Words that, right before the suffix, make a name descriptive rather than
 * proper (重点工程, 民生工程, 协同发展示范园区, 关联项目). */
static const char *const DESCRIPTIVE_TAILS[] = {
  "重点", "民生", "重大", "发展", "融合", "先行", "相关", "关联", "优质",
  "一批", "各类", "专业", "示范", "合作", "标志", "性", "化", "级",
  "公立", "专科", "综合", "集散", "防治",
};

/* Words a name does not start with: determiners and generic classifiers
 * (沿线文物保护修缮工程, 年度民生工程, 镇级配水厂, 公立传染病医院). */
static const char *const GENERIC_HEADS[] = {
  "沿线", "年度", "新一轮", "镇街", "镇级", "村级", "各", "一批", "重点",
  "相关", "其他", "公立", "全区", "全市", "全国", "市级", "城市", "农村",
  "企业", "老年", "技术", "工程", "区域", "我国", "我区", "本地", "专业",
  "一般", "基层", "新型", "现有", "部分", "多个", "若干", "一流", "特色",
  "高水平", "高标准", "国家级", "省级", "生态", "文明", "体育", "文体",
  "教育", "医疗", "自然", "水工", "电力", "河道", "非", "现代化",
};

/* Categories that make "A、B等<category>" an enumeration of names. */
static const char *const ENUM_CATEGORIES[] = {
  "项目", "平台", "载体", "园区", "企业", "学校", "道路", "活动", "公园",
  "景区", "景点", "片区", "场馆", "医院", "干线", "桥梁", "商圈", "品牌",
  "基地", "保交楼", "主题园区", "集聚区", "街区", "小镇", "生活圈",
};

/* Words that, between 等 and its category, show the listed items are
 * concepts or activities rather than names (等资金项目, 等人才开发平台,
 * 等群众性文体活动, 等平安示范创建活动, 等公共服务设施项目, 等为中心的商圈). */
static const char *const CONCEPT_MODIFIERS[] = {
  "资金", "人才", "文体", "创建", "设施", "为中心",
};

/* Characters that form a word with a following 等 (平等, 同等, 均等). */
static const char *const WORD_BEFORE_DENG = "平同均对相初何劣";

/* Verbs that close a short clause whose subject is a list of names
 * ("宝山典藏馆、乐居世界设计家居典藏馆建成投运"). */
static const char *const CLAUSE_TAIL_VERBS[] = {
  "建成投运", "建成投用", "竣工", "开业", "上线", "投入使用", "开工建设",
  "建成使用", "正式开诊", "获批",
};

/* Words that, right after a closing quote, mark the quoted text as a slogan
 * or a concept rather than a name (“四个意识”, “双碳”要求). */
static const char *const SLOGAN_FOLLOWERS[] = {
  "时期", "规划", "要求", "理论", "思想", "总体布局", "战略布局", "布局",
  "格局", "模式", "原则", "作用", "问题", "教育", "政策", "责任", "企业",
  "中小企业", "人才", "增长", "效益", "链接", "走向", "转向", "向", "理念",
  "的", "与", "和", "工作思路", "思路", "产业体系", "体系", "制度", "特色",
  "定位", "形象", "及", "意识", "精神", "经验", "结构", "空间", "骨架",
  "事项", "防线", "利益", "相统一", "文章", "多元", "漫步", "快闪", "课服",
  "末", "以来", "重要", "双牵引", "功能", "融合", "空白",
};

/* Measure words: a numeral followed by one of these is a quantity
 * (184个, 9所, 37个), never part of a name. */
static const char *const MEASURE_CHARS = "个家所项条批座处年月日万亿元名户套次家株亩吨";
static const char *const NUMERAL_CHARS = "一二两三四五六七八九十百千双多几";

/* ------------------------------------------------------------------ */
/* Code points                                                         */
/* ------------------------------------------------------------------ */

typedef struct text {
  uint32_t *cp; /* the paragraph without whitespace */
  size_t n;
  /* The same characters in UTF-8 (invalid input re-encoded as U+FFFD) and
   * the byte offset of each (off[n] = total): the word lists are matched
   * by comparing bytes, without decoding the words at every position. */
  unsigned char *b;
  uint32_t *off;
} text;

/* Decodes one UTF-8 sequence at s[0..len); invalid bytes give U+FFFD (a
 * punctuation-like character, so they end names) and advance one byte. */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *adv) {
  uint32_t c = s[0];
  size_t need = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2
              : (c & 0xF8) == 0xF0 ? 3 : 9;
  if (need == 9 || need >= len) { *adv = 1; return c < 0x80 ? c : 0xFFFD; }
  c &= need == 0 ? 0x7F : need == 1 ? 0x1F : need == 2 ? 0x0F : 0x07;
  for (size_t i = 1; i <= need; i++) {
    if ((s[i] & 0xC0) != 0x80) { *adv = 1; return 0xFFFD; }
    c = (c << 6) | (s[i] & 0x3F);
  }
  *adv = need + 1;
  return c;
}

static size_t utf8_put(uint32_t c, char *o) {
  if (c < 0x80) { o[0] = (char)c; return 1; }
  if (c < 0x800) { o[0] = (char)(0xC0 | (c >> 6)); o[1] = (char)(0x80 | (c & 0x3F)); return 2; }
  if (c < 0x10000) {
    o[0] = (char)(0xE0 | (c >> 12)); o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[2] = (char)(0x80 | (c & 0x3F)); return 3;
  }
  o[0] = (char)(0xF0 | (c >> 18)); o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((c >> 6) & 0x3F)); o[3] = (char)(0x80 | (c & 0x3F)); return 4;
}

static int is_space(uint32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
         c == 0xA0 || c == 0x3000 || (c >= 0x2000 && c <= 0x200B) || c == 0xFEFF;
}

static int is_han(uint32_t c) {
  return (c >= 0x3400 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0x20000 && c <= 0x2FFFF) || c == 0x3007 /* 〇 */;
}

static int is_alnum(uint32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= 0xFF10 && c <= 0xFF19) || (c >= 0xFF21 && c <= 0xFF3A) ||
         (c >= 0xFF41 && c <= 0xFF5A);
}

static int is_digit(uint32_t c) {
  return (c >= '0' && c <= '9') || (c >= 0xFF10 && c <= 0xFF19);
}

/* A character that may stand inside a name. */
static int is_name_char(uint32_t c) { return is_han(c) || is_alnum(c) || c == 0xB7; }

static int is_open_quote(uint32_t c) { return c == 0x201C || c == 0x300C || c == 0x2018; }
static int is_close_quote(uint32_t c) { return c == 0x201D || c == 0x300D || c == 0x2019; }

/* Whether c is one of the characters of the UTF-8 string set. */
static int in_charset(uint32_t c, const char *set) {
  /* UTF-8 is self-synchronising: c's bytes occur in set only where c does
   * (decoding the set at every call was 5% of the indexer's instructions) */
  char enc[5];
  enc[utf8_put(c, enc)] = 0;
  return c != 0 && strstr(set, enc) != NULL;
}

/* Number of code points of the UTF-8 string w[0..n). */
static size_t cp_count(const unsigned char *w, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += (w[i] & 0xC0) != 0x80;
  return k;
}

/* Length in code points of word when it occurs at t[pos..], else 0.  (Hot:
 * called for every position with every list word, so it compares bytes
 * and stops at the first difference.) */
static size_t match_at(const text *t, size_t pos, const char *word) {
  if (pos >= t->n) return 0;
  const unsigned char *p = t->b + t->off[pos], *e = t->b + t->off[t->n];
  const unsigned char *w = (const unsigned char *)word;
  size_t k = 0;
  for (; *w; w++, p++) {
    if (p == e || *p != *w) return 0;
    k += (*w & 0xC0) != 0x80;
  }
  return k;
}

/* Length of word when it ends exactly at t[..end), else 0.  A byte match
 * starts on a character boundary since word starts with a lead byte. */
static size_t match_end(const text *t, size_t end, const char *word) {
  if (end > t->n) return 0;
  size_t wl = strlen(word), be = t->off[end];
  if (wl == 0 || wl > be || memcmp(t->b + be - wl, word, wl) != 0) return 0;
  return cp_count((const unsigned char *)word, wl);
}

/* Longest word of list occurring at t[pos..]. */
static size_t match_list_at(const text *t, size_t pos, const char *const *list, size_t n) {
  size_t best = 0;
  for (size_t i = 0; i < n; i++) {
    size_t m = match_at(t, pos, list[i]);
    if (m > best) best = m;
  }
  return best;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Longest word of list ending at t[..end). */
static size_t match_list_end(const text *t, size_t end, const char *const *list, size_t n) {
  size_t best = 0;
  for (size_t i = 0; i < n; i++) {
    size_t m = match_end(t, end, list[i]);
    if (m > best) best = m;
  }
  return best;
}

/* The last character of each word of a list, and a bit per such character
 * (hashed to 1024): a word can end at a position only where its last
 * character stands, which rules out most positions before any word is
 * compared.  (Comparing every suffix and verb at every position was a
 * quarter of the indexer's instructions.)  Made once, read-only after. */
typedef struct last_chars {
  uint32_t last[256];
  uint64_t mask[16];
} last_chars;

static void last_chars_make(last_chars *lc, const char *const *words, size_t n, size_t stride) {
  memset(lc, 0, sizeof *lc);
  for (size_t i = 0; i < n && i < 256; i++) {
    const char *word = *(const char *const *)((const char *)words + i * stride);
    const unsigned char *w = (const unsigned char *)word;
    size_t wl = strlen(word), k = wl, adv;
    while (k > 0 && (w[k - 1] & 0xC0) == 0x80) k--;
    lc->last[i] = k > 0 ? utf8_next(w + k - 1, wl - k + 1, &adv) : 0;
    lc->mask[lc->last[i] >> 6 & 15] |= (uint64_t)1 << (lc->last[i] & 63);
  }
}

static int last_chars_may(const last_chars *lc, uint32_t c) {
  return (int)(lc->mask[c >> 6 & 15] >> (c & 63) & 1);
}

/* The longest word of words[0..n) (each stride bytes after the last, a
 * list indexed by lc) that ends exactly at t[..end), its index in *which
 * (the first of equal lengths); 0 when none does. */
static size_t longest_ending_at(const text *t, size_t end, const char *const *words, size_t n,
                                size_t stride, const last_chars *lc, size_t *which) {
  if (end == 0 || end > t->n) return 0;
  uint32_t c = t->cp[end - 1];
  if (!last_chars_may(lc, c)) return 0;
  size_t best = 0;
  for (size_t i = 0; i < n; i++) {
    if (lc->last[i] != c) continue;
    size_t m = match_end(t, end, *(const char *const *)((const char *)words + i * stride));
    if (m > best) {
      best = m;
      if (which) *which = i;
    }
  }
  return best;
}

static last_chars suffix_last, verb_last, road_last;
static pthread_once_t last_once = PTHREAD_ONCE_INIT;
static void last_chars_init(void);

/* ------------------------------------------------------------------ */
/* Candidates                                                          */
/* ------------------------------------------------------------------ */

typedef struct cand {
  size_t start, end; /* code point range, surrounding quotes excluded */
  int kind;
} cand;

typedef struct cands {
  cand *v;
  size_t n, cap;
} cands;

static int cands_add(cands *c, size_t start, size_t end, int kind) {
  if (end <= start) return PS_OK;
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    cand *v = realloc(c->v, cap * sizeof *v);
    if (!v) return PS_ERR_NOMEM;
    c->v = v;
    c->cap = cap;
  }
  c->v[c->n++] = (cand){start, end, kind};
  return PS_OK;
}

/* ------------------------------------------------------------------ */
/* Boundaries and the generic filter                                   */
/* ------------------------------------------------------------------ */

/* Whether a left-boundary verb ends at t[..pos) and really is a verb there
 * (not 建设 in 建设用地, nor 建设 right after a closing quote as in
 * “宜居杨店”建设工程).  Returns its length or 0. */
static size_t verb_ending_at(const text *t, size_t pos) {
  size_t best = longest_ending_at(t, pos, LEFT_VERBS, COUNT(LEFT_VERBS), sizeof LEFT_VERBS[0],
                                  &verb_last, NULL);
  if (!best) return 0;
  if (match_list_at(t, pos, NOT_VERB_AFTER, COUNT(NOT_VERB_AFTER))) return 0;
  /* 开发区 is a zone, not 开发 + a name (whereas 做强|区融媒体中心, 推进|区人民医院
   * are a verb and a district's institution) */
  if (best == 2 && match_end(t, pos, "开发") && pos < t->n && t->cp[pos] == 0x533A &&
      !(pos + 1 < t->n && (t->cp[pos + 1] == 0x57DF || t->cp[pos + 1] == 0x7EA7)))
    return 0;
  if (pos + 1 < t->n && in_charset(t->cp[pos], NUMERAL_CHARS) && t->cp[pos + 1] == 0x671F)
    return 0; /* 改造|一期项目: part of the name */
  if (pos - best > 0 && is_close_quote(t->cp[pos - best - 1])) return 0;
  return best;
}

/* Whether t[pos..] is "N年行动" (三年行动, 五年行动): a programme's span is
 * part of its name (国企改革三年行动, 优化营商环境三年行动计划). */
static int year_action_at(const text *t, size_t pos) {
  return pos + 1 < t->n && in_charset(t->cp[pos], NUMERAL_CHARS) && t->cp[pos + 1] == 0x5E74 &&
         match_at(t, pos + 2, "行动");
}

/* Whether t[pos] is a measure word after a numeral (…184个|…); not the span
 * of a programme (…三年|行动计划). */
static int quantity_ends_at(const text *t, size_t pos) {
  if (pos < 2 || !in_charset(t->cp[pos - 1], MEASURE_CHARS)) return 0;
  if (year_action_at(t, pos - 2)) return 0;
  uint32_t c = t->cp[pos - 2];
  return is_digit(c) || in_charset(c, NUMERAL_CHARS);
}

/* Walks left from end (exclusive) to the start of the name that ends there,
 * never going below floor.  A closing quote is taken in whole with its
 * quoted text (“运河不夜城”赋能工程); a short parenthesis such as （郊） is kept
 * inside.  Returns the start. */
static size_t left_boundary(const text *t, size_t end, size_t floor) {
  size_t i = end;
  while (i > floor) {
    uint32_t c = t->cp[i - 1];
    if (i < end ? verb_ending_at(t, i) != 0 && !year_action_at(t, i)
                : verb_ending_at(t, i) && !match_list_end(t, i, NOMINAL_VERBS, COUNT(NOMINAL_VERBS)))
      break;
    if (quantity_ends_at(t, i)) break;
    if (is_close_quote(c) || c == '"') {
      size_t j = i - 1;
      while (j > floor && !is_open_quote(t->cp[j - 1]) && t->cp[j - 1] != '"' &&
             (is_name_char(t->cp[j - 1]) || t->cp[j - 1] == 0x3001) && i - j < 16)
        j--;
      if (j > floor && (is_open_quote(t->cp[j - 1]) || t->cp[j - 1] == '"') && j < i - 1) {
        i = j - 1;
        break; /* the quoted part starts the name */
      }
      break;
    }
    if ((c == 0xFF09 || c == ')') && i >= 3 && i - 3 >= floor &&
        (t->cp[i - 3] == 0xFF08 || t->cp[i - 3] == '(') && is_han(t->cp[i - 2])) {
      i -= 3; /* （郊） */
      continue;
    }
    if (!is_name_char(c)) break;
    if (in_charset(c, LEFT_STOP_CHARS)) {
      /* a one-character word before 和 that a list separator opens is
       * the start of the name (、天和城配水厂), not a conjunction */
      if (c == 0x548C && i >= 2 && i - 2 > floor && is_han(t->cp[i - 2]) &&
          t->cp[i - 3] == 0x3001) {
        i -= 2;
        continue;
      }
      /* 保护与修复工程: two nominal verbs joined by 与/和 are one head */
      if ((c == 0x4E0E || c == 0x548C) && i - 1 > floor &&
          match_list_at(t, i, NOMINAL_VERBS, COUNT(NOMINAL_VERBS)) &&
          match_list_end(t, i - 1, NOMINAL_VERBS, COUNT(NOMINAL_VERBS))) {
        i -= 1 + match_list_end(t, i - 1, NOMINAL_VERBS, COUNT(NOMINAL_VERBS));
        continue;
      }
      break;
    }
    /* digits belong to a name only as in G95, Z1线 (after a Latin letter);
     * otherwise they end a heading number or a quantity (专栏1, 2024年) */
    if (is_digit(c)) {
      size_t j = i - 1;
      while (j > floor && is_digit(t->cp[j - 1])) j--;
      if (j == floor || !((t->cp[j - 1] | 0x20) >= 'a' && (t->cp[j - 1] | 0x20) <= 'z')) break;
    }
    i--;
  }
  return i;
}

/* Whether t[start..end) is made only of generic words. */
static int all_generic(const text *t, size_t start, size_t end) {
  /* Greedy longest-match segmentation from the left is enough here: the
   * generic words are short and do not overlap in practice.  Two
   * one-character words in a row are a place name, not two generic words
   * (高村|科技创新园, 大王|古庄): generic modifiers are words of two
   * characters or more with at most one single character among them. */
  size_t i = start;
  int prev_single = 0;
  while (i < end) {
    size_t best = 0;
    for (size_t k = 0; k < COUNT(GENERIC_WORDS); k++) {
      size_t m = match_at(t, i, GENERIC_WORDS[k]);
      if (m > best && i + m <= end) best = m;
    }
    if (!best) return 0;
    if (best == 1 && prev_single && is_han(t->cp[i - 1])) return 0;
    prev_single = best == 1;
    i += best;
  }
  return 1;
}

/* Whether t[start..end) holds a quantity (184个, 5个) or a year. */
static int has_quantity(const text *t, size_t start, size_t end) {
  for (size_t i = start + 1; i < end; i++)
    if (quantity_ends_at(t, i + 1) && i - 1 >= start) return 1;
  return 0;
}

/* Whether t[start..end) (suffix_len code points of suffix at its end) can
 * be a name at all: not too short or long, no quantity in the modifier, not
 * opened by a determiner nor closed by a descriptive word, not generic; weak
 * suffixes (项目, 平台, 中心 …) need a modifier of four characters or more.  A
 * quoted text followed at once by the suffix (“政务一网通”平台) is reported
 * by the quote rule as the quoted name alone, not here. */
static int plausible(const text *t, size_t start, size_t end, size_t suffix_len, int weak) {
  size_t len = end - start, mod_end = end - suffix_len;
  if (len < 2 || len > 30 || mod_end <= start) return 0;
  if (has_quantity(t, start, mod_end)) return 0;
  if (is_digit(t->cp[start])) return 0;
  /* a long modifier of generic words can still be specific
   * (区级交通智慧管理服务平台); a short one cannot (重点项目, 服务中心) */
  /* "N大…工程" counts a region's set of programmes (六大提升工程): a name */
  int counted = mod_end - start >= 3 && in_charset(t->cp[start], NUMERAL_CHARS) &&
                t->cp[start + 1] == 0x5927 && match_end(t, end, "工程");
  if (!counted && mod_end - start <= 4 && all_generic(t, start, mod_end)) return 0;
  /* 提升|三年行动计划: the span of a programme does not make it specific */
  if (mod_end - start >= 2 && year_action_at(t, mod_end - 2) &&
      mod_end - 2 - start <= 2 && all_generic(t, start, mod_end - 2))
    return 0;
  /* a phase (生态环境监测|二期|项目) makes even a generic-headed name one
   * project: only a particular project has phases */
  int phased = mod_end - start >= 4 && t->cp[mod_end - 1] == 0x671F &&
               in_charset(t->cp[mod_end - 2], NUMERAL_CHARS);
  if (!phased && match_list_at(t, start, GENERIC_HEADS, COUNT(GENERIC_HEADS))) return 0;
  for (size_t i = 0; i < COUNT(DESCRIPTIVE_TAILS); i++)
    if (match_end(t, mod_end, DESCRIPTIVE_TAILS[i])) return 0;
  if (is_close_quote(t->cp[mod_end - 1]) || t->cp[mod_end - 1] == '"') return 0;
  if (t->cp[start] == '"' || t->cp[end - 1] == '"') return 0;
  if (weak && mod_end - start < 4) return 0;
  return 1;
}

/* ------------------------------------------------------------------ */
/* Rules                                                               */
/* ------------------------------------------------------------------ */

/* Words that, right after a suffix, show the name goes on (京津塘高速|公路,
 * 城际|铁路, 湿地|公园), so the shorter name is not reported. */
static const char *const CONTINUATIONS[] = {"公路", "公园", "铁路", "贯通", "拓宽", "改建", "计划"};

/* Whether a name ending at e is continued by a longer name: a suffix or a
 * continuation word begins within the next few characters. */
static int continued(const text *t, size_t e) {
  for (size_t d = 0; d < 6 && e + d < t->n && is_name_char(t->cp[e + d]); d++) {
    if (match_list_at(t, e + d, CONTINUATIONS, COUNT(CONTINUATIONS))) return 1;
    for (size_t i = 0; i < COUNT(SUFFIXES); i++)
      if (match_at(t, e + d, SUFFIXES[i].word)) return 1;
  }
  return 0;
}

/* The suffix rule at every position where a suffix word ends. */
static int rule_suffix(const text *t, cands *out) {
  for (size_t e = 1; e <= t->n; e++) {
    size_t bi = 0, best = longest_ending_at(t, e, &SUFFIXES[0].word, COUNT(SUFFIXES),
                                            sizeof SUFFIXES[0], &suffix_last, &bi);
    if (!best) continue;
    int weak = SUFFIXES[bi].weak == 1, listed = SUFFIXES[bi].weak == 2;
    size_t end = e;
    int phase = 0;
    /* a phase marker extends the name: 佛罗伦萨小镇六期, …一期项目 */
    if (end + 1 < t->n && in_charset(t->cp[end], NUMERAL_CHARS) && t->cp[end + 1] == 0x671F) {
      end += 2;
      phase = 1;
    }
    /* a Latin tag belongs to the name: 中央创新区CID */
    if (end < t->n && t->cp[end] < 0x80 && is_alnum(t->cp[end]) && !is_digit(t->cp[end]))
      while (end < t->n && t->cp[end] < 0x80 && is_alnum(t->cp[end])) end++;
    /* 中心城市, 项目库 …: the suffix is not the head of this word */
    if (end < t->n && (match_at(t, end, "城市") || match_at(t, end, "库") ||
                       match_at(t, end, "工作") || match_at(t, end, "建设单位")))
      continue;
    /* a name inside a longer one (大黄堡湿地|核心区复绿工程) counts only when
     * its suffix is a strong one and the longer name is not just a
     * continuation of it (京津塘高速|公路) */
    if (!phase && end < t->n && is_name_char(t->cp[end]) &&
        !match_list_at(t, end, POST_NAME_WORDS, COUNT(POST_NAME_WORDS)) &&
        !match_list_at(t, end, CLAUSE_TAIL_VERBS, COUNT(CLAUSE_TAIL_VERBS)) &&
        (weak || listed || continued(t, end)))
      continue;
    /* 项目 alone is the most generic head: only "…N期项目" or "…片区…项目" */
    if (match_end(t, e, "项目")) {
      size_t s0 = e - best;
      int ok = s0 >= 2 && t->cp[s0 - 1] == 0x671F && in_charset(t->cp[s0 - 2], NUMERAL_CHARS);
      for (size_t k = s0 > 12 ? s0 - 12 : 0; k + 1 < s0 && !ok; k++)
        ok = match_at(t, k, "片区") != 0;
      if (!ok) continue;
    }
    size_t s = left_boundary(t, e - best, 0);
    /* 实施|优化营商环境三年行动计划: a programme may start with a verb */
    if (SUFFIXES[bi].kind == PS_PROJ_INITIATIVE && s >= 4 &&
        match_list_end(t, s, PROGRAMME_HEAD_VERBS, COUNT(PROGRAMME_HEAD_VERBS)) == 2 &&
        match_list_end(t, s - 2, PROGRAMME_VERBS, COUNT(PROGRAMME_VERBS)))
      s -= 2;
    if (listed && !((end < t->n && t->cp[end] == 0x3001) || (s > 0 && t->cp[s - 1] == 0x3001)))
      continue;
    if (!plausible(t, s, e, best, weak)) {
      /* a phase marker makes even a short generic-headed name specific
       * (区医院三期, 中医院二期) when a list word or punctuation opens it */
      if (phase && weak && e - best > s && e - s <= 5 &&
          !has_quantity(t, s, e - best) &&
          (s == 0 || !is_name_char(t->cp[s - 1]) || t->cp[s - 1] == 0x3001) &&
          cands_add(out, s, end, SUFFIXES[bi].kind))
        return PS_ERR_NOMEM;
      continue;
    }
    if (cands_add(out, s, end, SUFFIXES[bi].kind)) return PS_ERR_NOMEM;
    if (end != e && phase && cands_add(out, s, e, SUFFIXES[bi].kind)) return PS_ERR_NOMEM;
  }
  return PS_OK;
}

/* Whether the quoted text t[s..e) has a name suffix of its own. */
static int quoted_has_suffix(const text *t, size_t s, size_t e) {
  static const char *const short_heads[] = {"城", "谷", "镇", "园", "乡", "港", "湾", "带"};
  for (size_t i = 0; i < COUNT(SUFFIXES); i++)
    if (!SUFFIXES[i].weak && match_end(t, e, SUFFIXES[i].word) && e - s > 2) return 1;
  for (size_t i = 0; i < COUNT(short_heads); i++)
    if (match_end(t, e, short_heads[i]) && e - s > 2) return 1;
  return 0;
}

/* Road and line names (高王路, 同创大道, 河大公路, 京沪二通道, 城市轨道Z1线)
 * end in short, very common characters, so they are taken only in a
 * construction context: a strong left boundary (punctuation, a verb, or a
 * list word 及 与 和 、) and right after them a construction word or a
 * list separator (…路建设, …路与…路连接, …公路，). */
static const char *const ROAD_SUFFIXES[] = {"公路", "大道", "通道", "路", "道", "线"};

/* Words that end in a road character without naming a road (道路, 思路,
 * 沿线, 街道 …): a road name must not end in one of these. */
static const char *const NOT_ROADS[] = {
  "道路", "思路", "线路", "网路", "出路", "新路", "老路", "之路", "一路", "路路",
  "马路", "公路", "铁路", "水路", "陆路", "门路", "套路", "弯路", "绿道",
  "渠道", "轨道", "赛道", "街道", "河道", "航道", "管道", "频道", "知道",
  "车道", "步道", "廊道", "快速通道", "绿色通道", "通道", "一道", "干道",
  "沿线", "一线", "路线", "主线", "干线", "防线", "底线", "红线", "热线",
  "专线", "航线", "连线", "在线", "上线", "总线", "界线", "基线", "曲线",
  "战线", "视线", "光线", "全线", "支线", "管线", "线上", "生命线", "高压线",
  "电路", "专用道", "干线公路", "高速公路", "重要通道", "主通道", "大通道",
};

/* Words right after a road name that show it is being built or linked. */
static const char *const ROAD_FOLLOWERS[] = {
  "建设", "连接", "全线", "部分", "拓宽", "改造", "通车", "开通", "贯通",
  "提升", "改建", "延伸", "新建", "等", "与", "和", "及", "、", "，", "。", "；",
};

static int rule_roads(const text *t, cands *out) {
  for (size_t e = 2; e <= t->n; e++) {
    size_t best = longest_ending_at(t, e, ROAD_SUFFIXES, COUNT(ROAD_SUFFIXES),
                                    sizeof ROAD_SUFFIXES[0], &road_last, NULL);
    if (!best) continue;
    /* 通道 alone ends a road only with a modifier of its own (京沪二通道) */
    int generic_end = 0;
    for (size_t i = 0; i < COUNT(NOT_ROADS) && !generic_end; i++) {
      size_t m = match_end(t, e, NOT_ROADS[i]);
      if (m && m >= best && !(m == best && (match_end(t, e, "通道") || match_end(t, e, "公路"))))
        generic_end = 1;
    }
    if (generic_end) continue;
    size_t end = e;
    if (end < t->n && !match_list_at(t, end, ROAD_FOLLOWERS, COUNT(ROAD_FOLLOWERS))) continue;
    size_t s = left_boundary(t, e - best, 0);
    size_t mod = e - best - s;
    if (mod < 2 || mod > 6) continue;
    /* the boundary must be strong: punctuation, a verb, or a list word */
    if (s > 0 && is_name_char(t->cp[s - 1]) && !verb_ending_at(t, s) &&
        !in_charset(t->cp[s - 1], "及与和、"))
      continue;
    if (all_generic(t, s, e - best) || has_quantity(t, s, e - best)) continue;
    if (match_list_at(t, s, GENERIC_HEADS, COUNT(GENERIC_HEADS))) continue;
    int ok = 1;
    for (size_t k = s; k < e; k++) if (!is_name_char(t->cp[k])) ok = 0;
    if (!ok || is_digit(t->cp[s])) continue;
    if (cands_add(out, s, end, PS_PROJ_PROJECT)) return PS_ERR_NOMEM;
  }
  return PS_OK;
}

/* Verbs of building, launching or strengthening whose object, quoted and
 * closing a clause, is a name (做强“城市大脑”, 开通…“定制快巴”). */
static const char *const QUOTE_BUILD_VERBS[] = {
  "开通", "做强", "打造", "建成", "启动", "上线", "推出", "搭建",
  "开展", "实施", "擦亮", "叫响", "打响",
};

/* Whether a building verb ends within six name characters before the
 * opening quote at q. */
static int quote_object_of_build_verb(const text *t, size_t q) {
  for (size_t d = 0; d <= 6 && d <= q; d++) {
    size_t p = q - d;
    if (match_list_end(t, p, QUOTE_BUILD_VERBS, COUNT(QUOTE_BUILD_VERBS))) return 1;
    if (p == 0 || !is_name_char(t->cp[p - 1])) return 0;
  }
  return 0;
}

/* Quoted names and 《plan documents》. */
static int rule_quotes(const text *t, cands *out) {
  int ascii_open = 0;
  size_t ascii_at = 0;
  for (size_t i = 0; i < t->n; i++) {
    uint32_t c = t->cp[i];
    size_t s, e;
    if (c == 0x300A) { /* 《 */
      size_t j = i + 1;
      while (j < t->n && t->cp[j] != 0x300B && t->cp[j] != 0x300A && j - i < 80) j++;
      if (j < t->n && t->cp[j] == 0x300B && j > i + 1)
        if (cands_add(out, i + 1, j, PS_PROJ_PLAN_DOCUMENT)) return PS_ERR_NOMEM;
      continue;
    }
    if (c == '"') {
      if (!ascii_open) { ascii_open = 1; ascii_at = i; continue; }
      ascii_open = 0;
      s = ascii_at + 1;
      e = i;
    } else if (c == 0x201C || c == 0x300C) {
      uint32_t close = c == 0x201C ? 0x201D : 0x300D;
      size_t j = i + 1;
      while (j < t->n && t->cp[j] != close && t->cp[j] != c && j - i < 40) j++;
      if (j >= t->n || t->cp[j] != close) continue;
      s = i + 1;
      e = j;
      i = j;
    } else {
      continue;
    }
    size_t len = e - s;
    if (len < 3 || len > 20) continue;
    int ok = 1, han = 0;
    for (size_t k = s; k < e && ok; k++) {
      if (is_han(t->cp[k])) han = 1;
      else if (!is_alnum(t->cp[k]) && t->cp[k] != 0xB7) ok = 0; /* 、 + — */
      if (t->cp[k] == 0x548C) ok = 0; /* “A和B”: two things, not one name */
    }
    if (!ok || !han) continue;
    if (is_digit(t->cp[s])) continue;
    /* a numeral phrase is a slogan (“十四五”, “四个意识”) unless it names
     * places (“一区五园”) or platforms (“五大创新平台”) */
    if (in_charset(t->cp[s], NUMERAL_CHARS) && !quoted_has_suffix(t, s, e) &&
        !match_end(t, e, "平台") && !match_end(t, e, "街区"))
      continue;
    if (s >= 2 && t->cp[s - 2] == 0x7684) continue; /* 的“第二故乡” */
    size_t after = e + 1;
    if (after >= t->n || !is_name_char(t->cp[after])) {
      /* a quoted text closing a clause is usually a slogan (坚持“见缝插绿”，)
       * unless a verb of building or launching governs it, at most a few
       * name characters before it (做强“城市大脑”，开通4条京津“定制快巴”) */
      if (!quote_object_of_build_verb(t, s - 1)) continue;
    } else
    if (match_list_at(t, after, SLOGAN_FOLLOWERS, COUNT(SLOGAN_FOLLOWERS))) continue;
    if (after >= t->n || !is_name_char(t->cp[after])) {
      if (cands_add(out, s, e, PS_PROJ_INITIATIVE)) return PS_ERR_NOMEM;
      continue;
    }
    /* “X”建设工程: the quoted part alone is a name only when it has a name
     * suffix of its own (“尚蔬小镇”强链工程, not “宜居杨店”建设工程) */
    size_t m = 0;
    for (size_t k = 0; k < COUNT(SUFFIXES); k++) {
      /* does a suffix rule name start at this quote? checked cheaply: a
       * suffix word within the next few characters */
      for (size_t d = 3; d <= 6 && after + d <= t->n; d++)
        if (match_end(t, after + d, SUFFIXES[k].word) && SUFFIXES[k].weak) { m = d; break; }
      if (m) break;
    }
    if (m && !quoted_has_suffix(t, s, e)) continue;
    int kind = PS_PROJ_INITIATIVE;
    for (size_t k = 0; k < COUNT(SUFFIXES); k++)
      if (match_end(t, e, SUFFIXES[k].word)) { kind = SUFFIXES[k].kind; break; }
    if (cands_add(out, s, e, kind)) return PS_ERR_NOMEM;
  }
  return PS_OK;
}

/* Collects the items of a list that ends at end (exclusive), walking left
 * over 、 和 及 与.  Items are added when plausible. */
static int add_list_items(const text *t, size_t end, cands *out, int single_needs_strong) {
  size_t items[16][2];
  size_t n = 0;
  size_t e = end;
  while (n < 16) {
    size_t s = left_boundary(t, e, 0);
    size_t qs = s, qe = e;
    if (qe - qs >= 2 && (t->cp[qs] == 0x201C) && t->cp[qe - 1] == 0x201D) { qs++; qe--; }
    items[n][0] = qs;
    items[n][1] = qe;
    n++;
    if (s == 0) break;
    uint32_t c = t->cp[s - 1];
    if (c == 0x3001 || c == 0x548C || c == 0x53CA || c == 0x4E0E) { e = s - 1; continue; }
    if (single_needs_strong && n == 1 && is_name_char(c) && !verb_ending_at(t, s)) return PS_OK;
    break;
  }
  /* a weak tail verb (…盘活) needs a list of two items or more joined by 、 */
  if (single_needs_strong == 2 && (n < 2 || t->cp[items[0][0] - 1] != 0x3001)) return PS_OK;
  /* an item is kept when it looks like a name; an item ending in a name
   * suffix must pass the suffix rule's own test (重点|实验室, 特教学校) */
  int keep[16], n_bad = 0;
  for (size_t k = 0; k < n; k++) {
    size_t s = items[k][0], e2 = items[k][1];
    keep[k] = 0;
    if (e2 <= s || e2 - s < 2 || e2 - s > 16) { n_bad++; continue; }
    if (has_quantity(t, s, e2) || all_generic(t, s, e2)) { n_bad++; continue; }
    int ok = 1;
    for (size_t i = s; i < e2; i++) if (!is_name_char(t->cp[i])) ok = 0;
    if (!ok || is_digit(t->cp[s])) { n_bad++; continue; }
    size_t best = 0, bi = 0;
    for (size_t i = 0; i < COUNT(SUFFIXES); i++) {
      size_t m = match_end(t, e2, SUFFIXES[i].word);
      if (m > best) { best = m; bi = i; }
    }
    if (best && (e2 - s == best || all_generic(t, s, e2 - best) ||
                 (SUFFIXES[bi].weak && e2 - s - best < 4))) {
      n_bad++;
      continue;
    }
    keep[k] = 1;
  }
  /* a list that is half made of generic words is one of concepts
   * (科技创新、高端产业、新基建、生态环境、民生和公共服务等) */
  if (n >= 3 && 2 * (size_t)n_bad >= n) return PS_OK;
  for (size_t k = n; k-- > 0;)
    if (keep[k] && cands_add(out, items[k][0], items[k][1], PS_PROJ_PROJECT)) return PS_ERR_NOMEM;
  return PS_OK;
}

/* Enumerations before 等<category> and short clauses before a completion verb. */
static int rule_lists(const text *t, cands *out) {
  for (size_t i = 1; i < t->n; i++) {
    if (t->cp[i] == 0x7B49 /* 等 */) {
      /* skip quantity and generic adjectives to the category */
      size_t j = i + 1, lim = i + 8;
      int found = 0;
      while (j < t->n && j < lim && is_name_char(t->cp[j])) {
        if (match_list_at(t, j, ENUM_CATEGORIES, COUNT(ENUM_CATEGORIES))) { found = 1; break; }
        j++;
      }
      /* some words between 等 and the category make the list one of
       * concepts, not of names (等资金项目, 等平安示范创建活动, 等为中心的商圈) */
      for (size_t k = i + 1; found && k < j; k++)
        if (match_list_at(t, k, CONCEPT_MODIFIERS, COUNT(CONCEPT_MODIFIERS))) found = 0;
      if (!found || !is_name_char(t->cp[i - 1])) continue;
      /* 等 as the end of a word (依法平等, 同等, 均等), not a list marker */
      if (in_charset(t->cp[i - 1], WORD_BEFORE_DENG)) continue;
      if (add_list_items(t, i, out, 0)) return PS_ERR_NOMEM;
      continue;
    }
    size_t m = match_list_at(t, i, CLAUSE_TAIL_VERBS, COUNT(CLAUSE_TAIL_VERBS));
    if (m && is_name_char(t->cp[i - 1])) {
      if (add_list_items(t, i, out, 1)) return PS_ERR_NOMEM;
    } else if (match_at(t, i, "盘活") && is_name_char(t->cp[i - 1])) {
      if (add_list_items(t, i, out, 2)) return PS_ERR_NOMEM;
    }
  }
  return PS_OK;
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */

static int cand_cmp(const void *a, const void *b) {
  const cand *x = a, *y = b;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  if (x->end != y->end) return x->end > y->end ? -1 : 1;
  return 0;
}

static void last_chars_init(void) {
  _Static_assert(COUNT(SUFFIXES) <= 256 && COUNT(LEFT_VERBS) <= 256 &&
                     COUNT(ROAD_SUFFIXES) <= 256,
                 "last_chars holds 256");
  last_chars_make(&suffix_last, &SUFFIXES[0].word, COUNT(SUFFIXES), sizeof SUFFIXES[0]);
  last_chars_make(&verb_last, LEFT_VERBS, COUNT(LEFT_VERBS), sizeof LEFT_VERBS[0]);
  last_chars_make(&road_last, ROAD_SUFFIXES, COUNT(ROAD_SUFFIXES), sizeof ROAD_SUFFIXES[0]);
}

int ps_proj_extract(const char *text_in, size_t len, ps_proj_fn fn, void *ctx) {
  if (!fn || (!text_in && len)) return PS_ERR_USAGE;
  pthread_once(&last_once, last_chars_init);
  text t = {0};
  cands c = {0};
  char *buf = NULL;
  char **seen = NULL;
  size_t n_seen = 0;
  int rc = PS_OK;

  t.cp = malloc((len + 1) * sizeof *t.cp);
  t.off = malloc((len + 1) * sizeof *t.off);
  t.b = malloc(len * 3 + 8); /* an invalid byte becomes 3 (U+FFFD) */
  buf = malloc(len * 4 + 8);
  if (!t.cp || !t.off || !t.b || !buf) { rc = PS_ERR_NOMEM; goto done; }
  size_t bl0 = 0;
  for (size_t i = 0, adv; i < len; i += adv) {
    uint32_t ch = utf8_next((const unsigned char *)text_in + i, len - i, &adv);
    if (is_space(ch)) continue;
    t.off[t.n] = (uint32_t)bl0;
    bl0 += utf8_put(ch, (char *)t.b + bl0);
    t.cp[t.n++] = ch;
  }
  t.off[t.n] = (uint32_t)bl0;

  if (rc == PS_OK) rc = rule_quotes(&t, &c);
  if (rc == PS_OK) rc = rule_suffix(&t, &c);
  if (rc == PS_OK) rc = rule_lists(&t, &c);
  if (rc == PS_OK) rc = rule_roads(&t, &c);
  if (rc != PS_OK) goto done;
  if (c.n) qsort(c.v, c.n, sizeof *c.v, cand_cmp);

  seen = malloc((c.n + 1) * sizeof *seen);
  if (!seen) { rc = PS_ERR_NOMEM; goto done; }
  for (size_t k = 0; k < c.n && rc == PS_OK; k++) {
    size_t bl = 0;
    for (size_t i = c.v[k].start; i < c.v[k].end; i++) bl += utf8_put(t.cp[i], buf + bl);
    buf[bl] = '\0';
    int dup = 0;
    for (size_t i = 0; i < n_seen && !dup; i++) dup = strcmp(seen[i], buf) == 0;
    if (dup) continue;
    seen[n_seen] = malloc(bl + 1);
    if (!seen[n_seen]) { rc = PS_ERR_NOMEM; break; }
    memcpy(seen[n_seen++], buf, bl + 1);
    rc = fn(ctx, buf, bl, c.v[k].kind);
  }

done:
  for (size_t i = 0; i < n_seen; i++) free(seen[i]);
  free(seen);
  free(c.v);
  free(buf);
  free(t.cp);
  free(t.off);
  free(t.b);
  return rc;
}

const char *ps_proj_kind_name(int kind) {
  switch (kind) {
  case PS_PROJ_PROJECT: return "project";
  case PS_PROJ_PARK: return "park";
  case PS_PROJ_PLATFORM: return "platform";
  case PS_PROJ_INITIATIVE: return "initiative";
  case PS_PROJ_PLAN_DOCUMENT: return "plan_document";
  default: return "other";
  }
}
