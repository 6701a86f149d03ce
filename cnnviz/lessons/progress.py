"""A session's score and streak, and the level the next exercise is given at.

Each exercise counts once (its first check). Two right answers in a row at a level move the next
exercise one level up; two wrong in a row move it one level down (between 1 and 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from cnnviz.lessons.exercises import LEVELS

UP_AFTER = 2  # right answers in a row that move the level up
DOWN_AFTER = 2  # wrong answers in a row that move it down


@dataclass(frozen=True)
class Progress:
    answered: int = 0
    right: int = 0
    streak: int = 0  # right answers in a row, now
    best: int = 0  # the longest streak this session
    misses: int = 0  # wrong answers in a row, now
    level: int = LEVELS[0]  # the level the next exercise is suggested at
    seen: frozenset = field(default_factory=frozenset)  # exercise ids already counted

    def record(self, exercise_id: str, level: int, correct: bool) -> Progress:
        """The progress after checking `exercise_id` (at `level`); an exercise already counted changes nothing."""
        if exercise_id in self.seen:
            return self
        seen = self.seen | {exercise_id}
        if correct:
            streak = self.streak + 1
            up = streak % UP_AFTER == 0
            return replace(self, answered=self.answered + 1, right=self.right + 1, streak=streak,
                           best=max(self.best, streak), misses=0, seen=seen,
                           level=min(level + 1, LEVELS[-1]) if up else level)
        misses = self.misses + 1
        down = misses % DOWN_AFTER == 0
        return replace(self, answered=self.answered + 1, streak=0, misses=misses, seen=seen,
                       level=max(level - 1, LEVELS[0]) if down else level)
