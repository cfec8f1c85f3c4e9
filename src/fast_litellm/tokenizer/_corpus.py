"""Benchmark/CLI-independent text corpora: prose, code, multilingual, CJK.

Built from what every CPython ships (the Python documentation's topic
texts for prose, standard-library sources for code) and from a small set
of sentences in many languages, shuffled with numbers so that no two
generated documents are the same (benchmarks must not repeat an input
within a timed run).
"""
from __future__ import annotations

import glob
import os
import random
import sysconfig
from typing import List

MULTILINGUAL = [
    "Der schnelle braune Fuchs springt über den faulen Hund, während die Sonne untergeht.",
    "Le cœur a ses raisons que la raison ne connaît point; l'été dernier, c'était différent.",
    "El veloz murciélago hindú comía feliz cardillo y kiwi; la cigüeña tocaba el saxofón.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю — сказал он в понедельник.",
    "Ο καλύτερος τρόπος να προβλέψεις το μέλλον είναι να το δημιουργήσεις μόνος σου.",
    "العربية لغة جميلة، وهي من أكثر اللغات انتشاراً في العالم ويتحدثها الملايين.",
    "עברית היא שפה שמית ממשפחת השפות האפרו-אסיאתיות, והיא שפה רשמית בישראל.",
    "हिन्दी भारत की राजभाषा है और इसे करोड़ों लोग प्रतिदिन बोलते और लिखते हैं।",
    "ภาษาไทยเป็นภาษาที่มีวรรณยุกต์ และใช้อักษรไทยในการเขียนมาหลายร้อยปี",
    "Tiếng Việt có sáu thanh điệu và được viết bằng chữ Quốc ngữ dựa trên bảng chữ cái Latinh.",
    "Türkçe, Altay dil ailesine ait olduğu düşünülen eklemeli bir dildir; çok güzeldir.",
    "Polszczyzna ma wiele spółgłosek: chrząszcz brzmi w trzcinie w Szczebrzeszynie.",
    "Suomen kieli on agglutinoiva kieli, jossa on viisitoista sijamuotoa ja paljon vokaaleja.",
    "Kiswahili ni lugha ya Kibantu inayozungumzwa na mamilioni ya watu Afrika Mashariki.",
    "Português é falado em Portugal, no Brasil, em Angola e em Moçambique, não é?",
]

CJK = [
    "中文文本示例：北京是中国的首都，我们正在测试分词器的准确性和速度。",
    "人工智能正在改变世界，大型语言模型可以理解和生成自然语言文本。",
    "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。",
    "日本語のテキストです。東京は日本の首都で、人口は約千四百万人です。",
    "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。",
    "カタカナとひらがな、そして漢字を組み合わせて文章を書きます。",
    "한국어 텍스트입니다. 서울은 대한민국의 수도이며 인구가 많습니다.",
    "훈민정음은 조선의 세종대왕이 창제한 문자로, 오늘날 한글이라고 부릅니다.",
    "台北101曾是世界最高的建築物，位於臺灣臺北市信義區。",
    "今日は良い天気ですね。明日も晴れるといいですね。",
]


def _stdlib_dir() -> str:
    return sysconfig.get_paths()["stdlib"]


def prose(target_bytes: int, seed: int = 0) -> str:
    try:
        from pydoc_data.topics import topics  # English prose, shipped with CPython

        paragraphs = [p for t in topics.values() for p in t.split("\n\n") if len(p) > 40]
    except ImportError:  # pragma: no cover
        paragraphs = ["The quick brown fox jumps over the lazy dog. " * 4]
    return _assemble(paragraphs, target_bytes, seed, "\n\n")


def code(target_bytes: int, seed: int = 0) -> str:
    files = sorted(glob.glob(os.path.join(_stdlib_dir(), "*.py")))
    chunks: List[str] = []
    for path in files[:200]:
        try:
            with open(path, encoding="utf-8") as f:
                chunks += [c for c in f.read().split("\n\n\n") if c.strip()]
        except (OSError, UnicodeDecodeError):
            continue
    return _assemble(chunks or ["def f(x):\n    return x\n"], target_bytes, seed, "\n\n\n")


def multilingual(target_bytes: int, seed: int = 0) -> str:
    return _sentences(MULTILINGUAL, target_bytes, seed)


def cjk(target_bytes: int, seed: int = 0) -> str:
    return _sentences(CJK, target_bytes, seed)


def _assemble(parts: List[str], target_bytes: int, seed: int, sep: str) -> str:
    rnd = random.Random(seed)
    out: List[str] = []
    size = 0
    order = list(range(len(parts)))
    rnd.shuffle(order)
    i = 0
    while size < target_bytes:
        p = parts[order[i % len(order)]]
        if i >= len(order):  # second pass: vary it so no document repeats
            p = p.replace(" ", " %d " % rnd.randrange(10 ** 6), 1)
        out.append(p)
        size += len(p.encode("utf-8")) + len(sep)
        i += 1
    return sep.join(out)


def _sentences(sentences: List[str], target_bytes: int, seed: int) -> str:
    rnd = random.Random(seed)
    out: List[str] = []
    size = 0
    while size < target_bytes:
        s = rnd.choice(sentences)
        words = s.split(" ")
        if len(words) > 3:
            words.insert(rnd.randrange(len(words)), str(rnd.randrange(10 ** 5)))
        s = " ".join(words) + ("\n" if rnd.random() < 0.2 else " ")
        out.append(s)
        size += len(s.encode("utf-8"))
    return "".join(out)


CORPORA = {"prose": prose, "code": code, "multilingual": multilingual, "cjk": cjk}


def documents(kind: str, n: int, doc_bytes: int, seed: int = 0) -> List[str]:
    """n distinct documents of about doc_bytes each."""
    text = CORPORA[kind](n * doc_bytes, seed)
    data = text.encode("utf-8")
    docs: List[str] = []
    start = 0
    for _ in range(n):
        end = min(len(data), start + doc_bytes)
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end += 1  # keep UTF-8 whole
        docs.append(data[start:end].decode("utf-8"))
        start = end
    return [d for d in docs if d]
