"""The random panel draw, as a pure function an auditor can replay.

Given the candidates (every expert who may be drawn, with the number of proposals of the
call they already hold and whether their expertise matches the proposal's category) and
a seed, `draw` orders them: experts whose expertise matches first, then those with the
lightest load, and among equals by a shuffle seeded with the draw's seed. The first
`size` are the panel. The candidates are recorded in expert-id order with the seed
(`grants.models.PanelDraw`), so `replay(draw)` recomputes the same panel from the record
alone; nothing else (the database as it is today, the clock) enters the result."""

import random
import secrets


def new_seed() -> str:
    return secrets.token_hex(16)


def draw(candidates: list[dict], size: int, seed: str) -> list[int]:
    """The expert ids drawn: `candidates` are {"expert": id, "load": n, "match": bool}."""
    ordered = sorted(candidates, key=lambda c: c["expert"])
    rng = random.Random(seed)
    tickets = {c["expert"]: rng.random() for c in ordered}
    ranked = sorted(ordered, key=lambda c: (not c.get("match", True), c.get("load", 0), tickets[c["expert"]]))
    return [c["expert"] for c in ranked[:size]]


def replay(record) -> list[int]:
    """The panel a recorded PanelDraw gives when drawn again."""
    return draw(record.candidates, record.size, record.seed)
