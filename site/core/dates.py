def chinese_date(d) -> str:
    """2026年11月3日: the form official documents and notices use (no leading zeros)."""
    return f"{d.year}年{d.month}月{d.day}日"
