#!/usr/bin/env python3
"""gen_corpus.py: a deterministic synthetic policy corpus for the benchmarks.

New text with the statistics of corpus/ (the seed documents): body text is a
character Markov chain of order 3 over the seeds (runs copied from the seeds,
joined wherever the last three characters occur again, so every character
trigram is one the seeds contain), paragraph lengths drawn from the seeds'
paragraphs, the heading systems of Chinese official documents (第一章 /
第一节 for plans, 一、/（一） for reports), project names (“通武廊”, …产业园,
…新城, …湿地) and numbers with units (2024年, 116.8亿元, 增长5.5%, 184个).

Output, in DIR:
  docs/NNN/doc-NNNNNN.txt  plain-text documents of about --file-kb each (one
                           paragraph per line, as policy-index reads .txt)
  paras.txt                the same paragraphs, one per line, in file order
                           (for the peers: Groonga, SQLite FTS5, ripgrep)
  manifest.json            sizes and counts
The same --seed and --mb always give the same bytes.

Usage: gen_corpus.py --mb 100 --out /tmp/pscorpus-100 [--seed 1] [--file-kb 200]
"""
import argparse
import bisect
import json
import multiprocessing
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(os.path.dirname(HERE), "corpus")

CN_DIGITS = "一二三四五六七八九十"
DISTRICTS = ["武清区", "西青区", "北辰区", "宝坻区", "静海区", "宁河区", "蓟州区", "津南区",
             "东丽区", "滨海新区", "和平区", "河西区"]
PLACES = ["京津", "武清", "西青", "大黄堡", "永定河", "北运河", "大运河", "崔黄口", "大王古庄",
          "梅厂", "汊沽港", "下朱庄", "杨村", "王庆坨", "南蔡村", "精武", "中北", "张家窝",
          "李七庄", "辛口", "杨柳青", "高村", "黄庄", "河北屯", "京滨", "逸阳", "泗村店"]
FIELDS = ["智能科技", "生物医药", "新能源", "高端装备", "电子商务", "文化旅游", "现代物流",
          "数字经济", "新材料", "医疗器械", "汽车零部件", "合成生物", "氢能", "人工智能",
          "大数据", "跨境电商", "康养", "体育"]
SUFFIXES = ["产业园", "新城", "基地", "小镇", "平台", "中心", "示范区", "湿地", "工程",
            "科技园", "创新园", "物流园", "产业基地", "孵化器", "生态港", "研究院"]
QUOTED = ["通武廊", "京津研发、武清转化", "一区五园", "海河英才", "京津之肾", "无煤区",
          "田长制", "一制三化", "十项行动", "3+1+1", "五大创新平台", "津城", "滨城"]
UNITS = ["亿元", "万元", "万平方米", "公里", "个", "家", "项", "万人", "亩", "户", "吨", "所",
         "个百分点", "万吨", "千瓦"]


def read_seeds():
    """All seed text as one string (markup and whitespace between Chinese
    characters removed) and the lengths (characters) of its paragraphs."""
    texts, lengths = [], []
    for name in sorted(os.listdir(CORPUS)):
        with open(os.path.join(CORPUS, name), encoding="utf-8", errors="replace") as f:
            raw = f.read()
        raw = re.sub(r"(?s)^---.*?---", "", raw)          # front matter
        raw = re.sub(r"<[^>]+>", "\n", raw)               # html tags
        raw = re.sub(r"(?m)^[#>*|\- ]+", "", raw)          # markdown markers
        lines = [re.sub(r"\s+", "", l) for l in raw.split("\n")]
        lines = [l for l in lines if l]
        if not lines:
            continue
        # Rebuild wrapped (PDF-extracted) paragraphs: a paragraph ends at a
        # line that ends a sentence and stops short of the usual width.
        widths = sorted(len(l) for l in lines)
        full = widths[len(widths) * 3 // 4]
        para = ""
        for l in lines:
            para += l
            if l[-1] in "。！？：:" and (len(l) < full - 1 or full > 60):
                texts.append(para)
                lengths.append(len(para))
                para = ""
        if para:
            texts.append(para)
    body = [len(t) for t in texts if len(t) >= 20]
    seed = "".join(t for t in texts if len(t) >= 20)
    # Plain ASCII spaces never survive: the peers must see the same text.
    return seed, sorted(body)


class Model:
    """Order-3 character Markov chain over the seed text, sampled by copying
    runs and jumping between occurrences of the same context."""

    ORDER = 3

    def __init__(self, seed, lengths):
        self.seed = seed
        self.lengths = lengths
        ctx = {}
        for i in range(len(seed) - self.ORDER):
            ctx.setdefault(seed[i:i + self.ORDER], []).append(i + self.ORDER)
        self.ctx = ctx
        self.starts = [m.end() for m in re.finditer("[。；]", seed)][:-1] or [0]

    def text(self, rnd, n):
        """About n characters of body text ending in 。."""
        out, size = [], 0
        pos = rnd.choice(self.starts)
        tail = ""
        while True:
            run = 4 + int(rnd.expovariate(1 / 10))
            piece = self.seed[pos:pos + run]
            if not piece:
                pos = rnd.choice(self.starts)
                continue
            if size + len(piece) >= n:
                stop = piece.find("。")
                if stop >= 0:
                    out.append(piece[:stop + 1])
                    break
                if size > n * 2:
                    out.append(piece.rstrip("，、；：“（") + "。")
                    break
            out.append(piece)
            size += len(piece)
            tail = (tail + piece)[-self.ORDER:]
            nxt = self.ctx.get(tail)
            pos = rnd.choice(nxt) if nxt else rnd.choice(self.starts)
        return "".join(out)

    def clause(self, rnd, lo, hi):
        """A heading-like clause: lo..hi characters, no sentence punctuation."""
        for _ in range(20):
            t = self.text(rnd, hi)
            parts = [p for p in re.split("[。，；：、！？“”（）()《》]", t) if lo <= len(p) <= hi]
            if parts:
                return rnd.choice(parts)
        return "推动高质量发展"


def number(rnd):
    k = rnd.random()
    if k < 0.3:
        return "%d年" % rnd.randint(2015, 2035)
    if k < 0.55:
        return "增长%.1f%%" % rnd.uniform(0.5, 25)
    if k < 0.75:
        return "%.1f%s" % (rnd.uniform(1, 999), rnd.choice(UNITS[:4]))
    return "%d%s" % (rnd.randint(2, 2000), rnd.choice(UNITS))


def project(rnd):
    k = rnd.random()
    if k < 0.25:
        return "“%s”" % rnd.choice(QUOTED)
    if k < 0.6:
        return rnd.choice(PLACES) + rnd.choice(SUFFIXES)
    return rnd.choice(PLACES) + rnd.choice(FIELDS) + rnd.choice(SUFFIXES)


def paragraph(model, rnd):
    n = model.lengths[int(rnd.random() * len(model.lengths))]
    text = model.text(rnd, n)
    # Inject names and numbers after some commas.
    pieces = text.split("，")
    for i in range(len(pieces) - 1):
        r = rnd.random()
        if r < 0.12:
            pieces[i] += "，推进" + project(rnd) + "建设"
        elif r < 0.24:
            pieces[i] += "，" + rnd.choice(["完成", "实现", "新增", "累计", "达到"]) + number(rnd)
    return "，".join(pieces)


def cn_num(k):
    if k <= 10:
        return CN_DIGITS[k - 1]
    if k < 20:
        return "十" + CN_DIGITS[k - 11]
    return CN_DIGITS[k // 10 - 1] + "十" + (CN_DIGITS[k % 10 - 1] if k % 10 else "")


def document(args):
    """(document number, base seed, target bytes) -> list of paragraphs."""
    no, base, target = args
    rnd = random.Random(base * 1000003 + no)
    model = MODEL
    year = rnd.randint(2016, 2025)
    district = rnd.choice(DISTRICTS)
    plan = rnd.random() < 0.35
    if plan:
        title = "天津市%s国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要" % district
    elif rnd.random() < 0.5:
        title = "关于天津市%s%d年国民经济和社会发展计划执行情况与%d年计划草案的报告" % (
            district, year, year + 1)
    else:
        title = "%d年天津市%s人民政府工作报告" % (year, district)
    paras = [title]
    size = len(title.encode())
    top = 0
    # Every heading is followed by body text, so that the plain-text reader's
    # rule for wrapped chapter headings never joins two lines.
    while size < target:
        top += 1
        if plan:
            block = ["第%s章%s" % (cn_num(top), model.clause(rnd, 6, 16))]
        else:
            block = ["%s、%s" % (cn_num(top), model.clause(rnd, 6, 18))]
        block += [paragraph(model, rnd) for _ in range(rnd.randint(1, 3))]
        for sub in range(1, rnd.randint(2, 7)):
            if plan:
                block.append("第%s节%s" % (cn_num(sub), model.clause(rnd, 4, 12)))
            else:
                block.append("（%s）%s" % (cn_num(sub), model.clause(rnd, 6, 20)))
            block += [paragraph(model, rnd) for _ in range(rnd.randint(2, 10))]
        for p in block:
            paras.append(p)
            size += len(p.encode()) + 1
    return paras


MODEL = None


def init_worker(seed_text, lengths):
    global MODEL
    MODEL = Model(seed_text, lengths)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, required=True, help="corpus size in MB (10^6 bytes)")
    ap.add_argument("--out", required=True, help="output directory (created)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--file-kb", type=int, default=200, help="size of one document")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    if a.mb <= 0 or a.file_kb <= 0:
        sys.exit("gen_corpus: --mb and --file-kb must be positive")
    seed_text, lengths = read_seeds()
    total = int(a.mb * 1e6)
    per = a.file_kb * 1000
    n_docs = max(1, (total + per - 1) // per)
    os.makedirs(os.path.join(a.out, "docs"), exist_ok=True)
    jobs = [(i, a.seed, min(per, total - i * per) or per) for i in range(n_docs)]
    written = paras_n = 0
    with multiprocessing.Pool(a.jobs, init_worker, (seed_text, lengths)) as pool, \
            open(os.path.join(a.out, "paras.txt"), "w", encoding="utf-8") as lines:
        for i, paras in enumerate(pool.imap(document, jobs, chunksize=4)):
            sub = os.path.join(a.out, "docs", "%03d" % (i // 100))
            os.makedirs(sub, exist_ok=True)
            body = "\n".join(paras) + "\n"
            with open(os.path.join(sub, "doc-%06d.txt" % i), "w", encoding="utf-8") as f:
                f.write(body)
            lines.write(body)
            written += len(body.encode())
            paras_n += len(paras)
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump({"mb": a.mb, "seed": a.seed, "files": n_docs, "paragraphs": paras_n,
                   "bytes": written}, f)
    print("gen_corpus: %d files, %d paragraphs, %.1f MB in %s" %
          (n_docs, paras_n, written / 1e6, a.out), file=sys.stderr)


if __name__ == "__main__":
    main()
