"""A plain-language check for narrative text.

The West Kent partners committed to "check we are using clear and concise language", so
every narrative field shows its estimated reading age and its long sentences beside it.
It advises; it never blocks a save.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import textstat

LONG_SENTENCE_WORDS = 25
TARGET_READING_AGE = 14
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")


@dataclass
class Readability:
    words: int
    reading_age: int | None
    long_sentences: list[str] = field(default_factory=list)

    @property
    def advice(self) -> list[str]:
        tips = []
        if self.reading_age is not None and self.reading_age > TARGET_READING_AGE:
            tips.append(
                f"Reading age about {self.reading_age}. Aim for {TARGET_READING_AGE} or under: "
                "use shorter words and sentences."
            )
        for sentence in self.long_sentences:
            words = len(sentence.split())
            tips.append(f"This sentence has {words} words. Try to split it: “{sentence[:80]}…”")
        return tips


def readability(text: str | None) -> Readability | None:
    """Estimate the reading age of ``text`` and find its long sentences."""
    text = (text or "").strip()
    if not text:
        return None
    words = len(text.split())
    # Flesch-Kincaid grade is a US school year; UK reading age is about five more.
    reading_age = round(textstat.flesch_kincaid_grade(text) + 5) if words >= 8 else None
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    long = [s for s in sentences if len(s.split()) > LONG_SENTENCE_WORDS]
    return Readability(words=words, reading_age=reading_age, long_sentences=long)
