/* test_projects.c: unit tests of the project-name extractor (ps_projects.h).
 *
 * Each rule gets positive and negative cases built from sentences of the
 * bundled corpus: quoted names, 《plan documents》, suffix names with a verb
 * or punctuation as left boundary, enumerations before 等<category>, and the
 * generic phrases and quantities that must not come out as names.  A last
 * check runs the extractor over every paragraph of the corpus (no crash, no
 * empty or whitespace-bearing name). */
#include "check.h"
#include "ps_error.h"
#include "ps_ingest.h"
#include "ps_projects.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

typedef struct names {
  char buf[4096];
  size_t len;
  int n;
  int kinds[64];
} names;

/* Collects the names as "a|b|c". */
static int collect(void *ctx, const char *name, size_t len, int kind) {
  names *ns = ctx;
  if (ns->len + len + 2 >= sizeof ns->buf) return 0;
  if (ns->n) ns->buf[ns->len++] = '|';
  memcpy(ns->buf + ns->len, name, len);
  ns->len += len;
  ns->buf[ns->len] = '\0';
  if (ns->n < 64) ns->kinds[ns->n] = kind;
  ns->n++;
  return 0;
}

static const char *run(names *ns, const char *text) {
  memset(ns, 0, sizeof *ns);
  int rc = ps_proj_extract(text, strlen(text), collect, ns);
  CHECK_INT(rc, PS_OK);
  return ns->buf;
}

/* Whether name is one of the '|'-separated names in list. */
static int has(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; (p = strstr(p, name)) != NULL; p++)
    if ((p == list || p[-1] == '|') && (p[n] == '|' || p[n] == '\0')) return 1;
  return 0;
}

static void test_quoted(void) {
  names ns;
  const char *r = run(&ns, "（一）坚持谋大局、扩优势，京津冀协同发展连创佳绩。“新产业之城”建设提速。");
  CHECK(has(r, "新产业之城"));
  CHECK(!has(r, "“新产业之城”"));
  r = run(&ns, "突出同向发力、关键突破，“通武廊”区域合作深化拓展。");
  CHECK(has(r, "通武廊"));
  /* slogans: numeral phrases, enumerations, a quote closing the clause,
   * and words that mark a concept (要求, 时期) */
  r = run(&ns, "深入学习贯彻习近平总书记视察天津重要讲话精神和“四个善作善成”重要要求，");
  CHECK_STR(r, "");
  r = run(&ns, "“建、产、投、服”一体化管理体系全面建立，坚持“见缝插绿”，完成造林");
  CHECK_STR(r, "");
  r = run(&ns, "2025年是全区“十四五”规划收官之年，落实“双碳”要求，");
  CHECK_STR(r, "");
  /* the Markdown file writes ASCII quotes */
  r = run(&ns, "持续培育\"津农精品\"品牌,提升品牌价值");
  CHECK(has(r, "津农精品"));
}

static void test_plan_documents(void) {
  names ns;
  const char *r = run(&ns, "三地联合制定《推动“通武廊”一体化高质量发展行动方案》，系统化清单化落实");
  CHECK(has(r, "推动“通武廊”一体化高质量发展行动方案"));
  CHECK_INT(ns.kinds[0], PS_PROJ_PLAN_DOCUMENT);
  r = run(&ns, "编制《武清新商圈发展规划》和《武清区加快建设国际消费中心城市重要支点行动方案》。");
  CHECK(has(r, "武清新商圈发展规划"));
  CHECK(has(r, "武清区加快建设国际消费中心城市重要支点行动方案"));
  r = run(&ns, "未闭合的《书名");
  CHECK_STR(r, "");
}

static void test_suffix_after_verb(void) {
  names ns;
  const char *r = run(&ns, "聚焦智能科技和生物医药，启动精准医疗科技产业园建设。");
  CHECK(has(r, "精准医疗科技产业园"));
  CHECK(!has(r, "启动精准医疗科技产业园"));
  CHECK_INT(ns.kinds[0], PS_PROJ_PARK);
  r = run(&ns, "推进京津产业新城智慧化一体化企业服务平台建设，用好全市支持政策");
  CHECK(has(r, "京津产业新城智慧化一体化企业服务平台"));
  CHECK(has(r, "京津产业新城"));
  r = run(&ns, "配合做好 G95 首都地区环线高速工程建设，纵深拓展");
  CHECK(has(r, "G95首都地区环线高速工程"));
  /* a shorter name that only continues into a longer one is not reported */
  CHECK(!has(r, "G95首都地区环线高速"));
  r = run(&ns, "推动京津塘高速公路拓宽改建工程和杨村西出入口开工建设");
  CHECK(has(r, "京津塘高速公路拓宽改建工程"));
  CHECK(has(r, "杨村西出入口"));
  CHECK(!has(r, "京津塘高速"));
  /* “X”<verb>工程: the quoted part belongs to the name */
  r = run(&ns, "3632.“尚蔬小镇”强链工程。推动下伍旗组团锚定");
  CHECK(has(r, "“尚蔬小镇”强链工程"));
  CHECK(has(r, "尚蔬小镇"));
  r = run(&ns, "3834.“宜居杨店”建设工程。推动大孟庄");
  CHECK(has(r, "“宜居杨店”建设工程"));
  CHECK(!has(r, "宜居杨店"));
  /* phase markers and Latin tags stay with the name */
  r = run(&ns, "加快城市治理现代化建设，河东片区棚户区改造一期项目竣工，");
  CHECK(has(r, "河东片区棚户区改造一期项目"));
  r = run(&ns, "坚持“双高引领”，推进中央创新区CID蝶变升级");
  CHECK(has(r, "中央创新区CID"));
}

static void test_suffix_after_punctuation(void) {
  names ns;
  const char *r = run(&ns, "引进184个优质项目。特变电工智慧产业园等重点项目竣工，");
  CHECK(has(r, "特变电工智慧产业园"));
  r = run(&ns, "垃圾无害化处理率100%。大黄堡湿地核心区生态移民");
  CHECK(has(r, "大黄堡湿地"));
  /* PDF extraction: spaces and line breaks inside the name are dropped */
  r = run(&ns, "产业协作不断深化，京津冀智能网联新能源汽车科技生\n态港（武清园）启动建设，");
  CHECK(has(r, "京津冀智能网联新能源汽车科技生态港"));
}

static void test_generic_rejected(void) {
  names ns;
  const char *r = run(&ns, "引进总投资116.8亿元的特变电工电气装备集团等184个优质项目。");
  CHECK(!has(r, "184个优质项目"));
  CHECK(!has(r, "优质项目"));
  r = run(&ns, "等重点项目竣工，各类平台加快建设，一批项目落地。");
  CHECK_STR(r, "");
  r = run(&ns, "完善服务中心，建设重点工程。");
  CHECK_STR(r, "");
  r = run(&ns, "新增市场化机制引进疏解功能资源落地项目 37个、总投资 151.2亿元");
  CHECK_STR(r, "");
  r = run(&ns, "抢抓天津建设国际消费中心城市机遇");
  CHECK_STR(r, "");
}

static void test_enumerations(void) {
  names ns;
  const char *r = run(&ns, "累计总数达到5个。三只松鼠、迦楠生物等重点项目建成竣工，");
  CHECK(has(r, "三只松鼠"));
  CHECK(has(r, "迦楠生物"));
  r = run(&ns, "教育资源供给扩容提质，杨村二中、杨村四小等9所学校投入使用，");
  CHECK(has(r, "杨村二中"));
  CHECK(has(r, "杨村四小"));
  /* 等 before a non-category word is not an enumeration of names */
  r = run(&ns, "重点发展生物医药、新能源等产业，");
  CHECK_STR(r, "");
}

static void test_api(void) {
  names ns;
  CHECK_INT(ps_proj_extract(NULL, 0, collect, &ns), PS_OK);
  CHECK_INT(ps_proj_extract("x", 1, NULL, NULL), PS_ERR_USAGE);
  CHECK_STR(ps_proj_kind_name(PS_PROJ_PARK), "park");
  CHECK_STR(ps_proj_kind_name(PS_PROJ_PLAN_DOCUMENT), "plan_document");
  CHECK_STR(ps_proj_kind_name(99), "other");
  /* distinct names, in order of first appearance */
  const char *r = run(&ns, "建成大黄堡湿地。保护大黄堡湿地，建设津北森林公园。");
  CHECK_STR(r, "大黄堡湿地|津北森林公园");
  /* invalid UTF-8 and stray bytes do not derail the walk */
  r = run(&ns, "\xff\xfe建设精准医疗科技产业园\xc3");
  CHECK(has(r, "精准医疗科技产业园"));
}

static int stop_at_second(void *ctx, const char *name, size_t len, int kind) {
  (void)name; (void)len; (void)kind;
  return ++*(int *)ctx == 2 ? 42 : 0;
}

static void test_stop(void) {
  int calls = 0;
  const char *t = "建成大黄堡湿地。建设津北森林公园，启动精准医疗科技产业园。";
  CHECK_INT(ps_proj_extract(t, strlen(t), stop_at_second, &calls), 42);
  CHECK_INT(calls, 2);
}

/* Rules added for precision: concept lists, words before 等, weak clause
 * verbs, descriptive heads, quotes used as epithets. */
static void test_concepts_rejected(void) {
  names ns;
  /* a specific word between 等 and its category: a list of concepts */
  const char *r = run(&ns, "获批超长期国债、中央预算内资金、专项债等资金项目25个，实施设备更新项目89个");
  CHECK(!has(r, "专项债"));
  CHECK(!has(r, "超长期国债"));
  r = run(&ns, "全域开展平安家庭、平安社区（村）、平安校园等平安示范创建活动。");
  CHECK(!has(r, "平安家庭"));
  r = run(&ns, "加快海拉车灯二期、嘉林科医等重点制造业项目建设，");
  CHECK(has(r, "海拉车灯二期"));
  CHECK(has(r, "嘉林科医"));
  /* list items that end in a suffix must pass the suffix test; a list
   * half made of generic words is dropped */
  r = run(&ns, "重点实验室、工程技术中心等市级企业创新平台累计达22家。");
  CHECK(!has(r, "实验室"));
  CHECK(!has(r, "工程技术中心"));
  r = run(&ns, "谋划实施一批科技创新、高端产业、新基建、生态环境、民生和公共服务等重大项目，");
  CHECK(!has(r, "新基建"));
  CHECK(!has(r, "生态环境"));
  /* 等 ending a word (平等) is no list marker */
  r = run(&ns, "积极构建亲清新型政商关系，依法平等保护企业产权和企业家权益，");
  CHECK(!has(r, "依法平"));
  /* 盘活 closes a clause about names only after a list */
  r = run(&ns, "深化科技创新、产业焕新、城市更新，有效盘活存量、做优增量，");
  CHECK(!has(r, "有效"));
  r = run(&ns, "隆悦城、国际企业社区等项目入驻优质主体超210家，狗不理、大岛酒楼盘活取得历史突破，");
  CHECK(has(r, "大岛酒楼"));
  /* a descriptive head (现代化) and a quote followed by 融合/功能 */
  r = run(&ns, "建设人产城融合的现代化科技产业新城，实现与京津功能互补");
  CHECK_STR(r, "");
  r = run(&ns, "推进农业“接二连三”融合发展，发挥前进道“核心轴”功能，");
  CHECK_STR(r, "");
  /* a name going on into another (京津塘高速|大王古庄出入口) */
  r = run(&ns, "开通京津塘高速大王古庄出入口、争取增设京津产业新城出入口。");
  CHECK(!has(r, "京津塘高速"));
}

/* Rules added for recall. */
static void test_more_names(void) {
  names ns;
  /* a one-character word before 和 opened by 、 (天和城配水厂) */
  const char *r = run(&ns, "开展城北引滦水厂二期、天和城配水厂、镇级配水厂及配套管网等工程建设");
  CHECK(has(r, "天和城配水厂"));
  CHECK(!has(r, "城配水厂"));
  CHECK(!has(r, "镇级配水厂"));
  /* two nominal verbs joined by 与 form one head */
  r = run(&ns, "实施大黄堡湿地保护与修复工程，完成核心区生态移民");
  CHECK(has(r, "大黄堡湿地保护与修复工程"));
  /* roads in a construction context */
  r = run(&ns, "全力推进高王路与北京通清路连接。城区东环全线开通，拓宽改造河大公路，");
  CHECK(has(r, "高王路"));
  CHECK(has(r, "北京通清路"));
  CHECK(has(r, "河大公路"));
  r = run(&ns, "理清发展思路，壮大集成电路产业，实施重点干线公路提升改造工程，推进城市道路建设。");
  CHECK(!has(r, "发展思路"));
  CHECK(!has(r, "集成电路"));
  CHECK(!has(r, "干线公路"));
  CHECK(!has(r, "城市道路"));
  /* a quoted name that closes a clause after a building verb */
  r = run(&ns, "加快智慧武清建设，做强“城市大脑”，持续推动数据资源“聚通用”，");
  CHECK(has(r, "城市大脑"));
  CHECK(!has(r, "聚通用"));
  r = run(&ns, "新开通4条京津“定制快巴”，区域合作续写共赢新篇章。");
  CHECK(has(r, "定制快巴"));
  /* a phase marker makes a short generic-headed name specific */
  r = run(&ns, "区医院三期、中医院二期启动建设，打造2个以上基层医疗“区域龙头”医院。");
  CHECK(has(r, "区医院三期"));
  CHECK(has(r, "中医院二期"));
  CHECK(!has(r, "区医院"));
  r = run(&ns, "引进3所优质教育资源，一中分校、英华分校建成投入使用；");
  CHECK(has(r, "英华分校"));
  r = run(&ns, "建成保利金街等5个一刻钟生活圈，入选全国第四批城市一刻钟便民生活圈试点。");
  CHECK(has(r, "保利金街"));
  CHECK(has(run(&ns, "引进3所优质教育资源，一中分校、英华分校建成投入使用；"), "一中分校"));
  /* two one-character words in a row are a place name, not generic words */
  r = run(&ns, "打造京滨工业园、高村科技创新园等京津冀协同发展示范园区，强化");
  CHECK(has(r, "高村科技创新园"));
  r = run(&ns, "建设重点产业园，");
  CHECK(ns.n == 0);
  /* a phase makes a generic-headed name one project */
  r = run(&ns, "实施生态环境监测二期项目，加快巡护防护设施建设");
  CHECK(has(r, "生态环境监测二期项目"));
  r = run(&ns, "实施生态环境监测项目，");
  CHECK(ns.n == 0);
  /* 开发区 is a zone, not the verb 开发; 做强|区… is a verb and a district's name */
  r = run(&ns, "增长6.0%。开发区低碳工业制冷设备产业、京清园新能源汽车零部件产业竣工");
  CHECK(has(r, "开发区低碳工业制冷设备产业"));
  CHECK(!has(r, "区低碳工业制冷设备产业"));
  r = run(&ns, "做强区融媒体中心，");
  CHECK(has(r, "区融媒体中心"));
  CHECK(!has(r, "强区融媒体中心"));
}

typedef struct sane { int bad; int total; } sane;

static int check_sane(void *ctx, const char *name, size_t len, int kind) {
  sane *s = ctx;
  s->total++;
  if (len == 0 || memchr(name, ' ', len) || memchr(name, '\n', len) ||
      kind < PS_PROJ_PROJECT || kind > PS_PROJ_OTHER)
    s->bad++;
  return 0;
}

/* Programmes with a span or a count in their name (三年行动计划, 六大…工程)
 * and names ending in 谷 inside a list. */
static void test_programmes(void) {
  names ns;
  const char *r = run(&ns, "打造一流营商环境。实施优化营商环境三年行动计划,大力提振市场信心。");
  CHECK(has(r, "优化营商环境三年行动计划"));
  CHECK(!has(r, "营商环境三年行动计划"));
  r = run(&ns, "深入实施招商引资三年行动计划。");
  CHECK(has(r, "招商引资三年行动计划"));
  /* a generic verb and the span alone are not a name */
  r = run(&ns, "推进养老服务提升三年行动计划，提升智慧养老水平。");
  CHECK(!has(r, "提升三年行动计划"));
  CHECK(!has(r, "三年行动计划"));
  /* 三年 outside a programme stays a quantity */
  r = run(&ns, "三年建成5个产业园，");
  CHECK(!has(r, "三年建成5个产业园"));
  r = run(&ns, "2022年，武清区实施六大提升工程，预计全年");
  CHECK(has(r, "六大提升工程"));
  r = run(&ns, "实施九项重点工程，");
  CHECK(ns.n == 0);
  r = run(&ns, "高标准建成生物谷、智谷和节能环保产业园，着力引进国内外行业龙头");
  CHECK(has(r, "生物谷"));
  CHECK(has(r, "智谷"));
  CHECK(has(r, "节能环保产业园"));
  /* 谷 outside a list is not a name head */
  r = run(&ns, "推动行业走出低谷，");
  CHECK(ns.n == 0);
  r = run(&ns, "推广峰谷电价。");
  CHECK(ns.n == 0);
}

static void test_corpus(void) {
  DIR *d = opendir(PS_CORPUS_DIR);
  CHECK(d != NULL);
  if (!d) return;
  sane s = {0, 0};
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", PS_CORPUS_DIR, e->d_name);
    ps_doc *doc = NULL;
    ps_error err;
    if (ps_ingest_file(path, NULL, &doc, &err) != PS_OK) continue;
    for (size_t i = 0; i < doc->n_paras; i++)
      CHECK_INT(ps_proj_extract(doc->paras[i].text, doc->paras[i].len, check_sane, &s), PS_OK);
    ps_doc_free(doc);
  }
  closedir(d);
  CHECK_INT(s.bad, 0);
  CHECK(s.total > 100);
}

int main(void) {
  test_quoted();
  test_plan_documents();
  test_suffix_after_verb();
  test_suffix_after_punctuation();
  test_generic_rejected();
  test_enumerations();
  test_api();
  test_stop();
  test_concepts_rejected();
  test_more_names();
  test_programmes();
  test_corpus();
  return CHECK_DONE();
}
