"""Writes sentences.txt: the varied sentences the BERT tokenizer oracle compares on (seeded, our own text)."""
import random

r = random.Random(16)
head = [
    "hello world!",
    "The movie was surprisingly good, and the acting was superb.",
    "I wouldn't recommend this phone to anyone; the battery died after 2 days.",
    "Café Müller serves crème brûlée for €4.50 — naïve, but délicieux.",
    "unaffable xenobiotic hyperparameterization of 12,345.67 widgets",
    "短い文 and 中文字符 mixed with English.",
]
subjects = ["The food", "This laptop", "Our waiter", "The plot", "My flight", "The hotel room", "Customer service",
            "The soundtrack", "Her résumé", "The café", "Zoë's piñata", "The naïve coördinator", "El Niño",
            "The São Paulo office", "Björk's album", "A déjà-vu", "The façade"]
verbs = ["was", "seemed", "is", "became", "remained", "wasn't", "isn't", "felt"]
adjs = ["great", "terrible", "okay-ish", "super-duper", "mind-blowing", "underwhelming", "so-so", "AMAZING",
        "disappointing", "flabbergasting", "supercalifragilisticexpialidocious", "meh", "über-cool", "très bien"]
tails = ["!", ".", "?!", "...", " :)", " :-(", " 😀", " — really.", " (seriously)", ", lol.", "!!!", " #fail",
         " @support", " https://example.com/a?b=c", " 10/10", " 3.5 stars", " $19.99", " 100%", " 2nd time",
         " e-mail me at a.b@c.de", " ½ price", " №5", " ©2026", " x²", " naïveté", " İstanbul", " ß straße"]
extras = ["", "", "", " Honestly", " In 2019,", " Überhaupt", " Well…", " \"Quoted\"", " 'single'", " [bracketed]",
          " {curly}", " <angle>", " tab\tseparated", " multiple   spaces", " ÀÉÎÕÜ", " ñandú", " Ελληνικά",
          " русский текст", " عربى", " हिन्दी", " 한국어", " 日本語のテキスト", " ﬁ ligature", " ＦＵＬＬＷＩＤＴＨ",
          " zero\u200bwidth", " combining e\u0301", " ctrl\u0007char", " [MASK] token", " [UNK] [SEP]"]
lines = list(head)
while len(lines) < 320:
    s = r.choice(extras) + " " + r.choice(subjects) + " " + r.choice(verbs) + " " + r.choice(adjs) + r.choice(tails)
    if r.random() < 0.3:
        s = s + " " + str(r.randint(0, 10**r.randint(1, 9)))
    if r.random() < 0.2:
        s = s.upper()
    lines.append(s.strip())
with open("sentences.txt", "w", encoding="utf-8") as f:
    for s in lines:
        f.write(s.replace("\n", " ") + "\n")
