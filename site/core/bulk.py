"""Bulk writes the ORM has no cheap form of."""

from django.db import connection


def update_many(model, names: list[str], rows: list[tuple]) -> None:
    """UPDATE the columns `names` of each row: `rows` are (pk, value, …) in that order,
    one executemany (what bulk_update writes, without its CASE per row, which grows with
    the batch on SQLite)."""
    fields = [model._meta.get_field(n) for n in names]
    quote = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        quote(model._meta.db_table),
        ", ".join(f"{quote(f.column)} = %s" for f in fields),
        quote(model._meta.pk.column),
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [(*(f.get_db_prep_save(v, connection) for f, v in zip(fields, r[1:], strict=True)), r[0]) for r in rows],
        )
