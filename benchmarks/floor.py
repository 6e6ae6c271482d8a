"""The machine's floor for one-transaction-each writes on PostgreSQL: a payment-shaped
transaction of N plain statements (lock one account row, read its open items, insert the
payment by key, insert N - 5 postings, update an open item and the account), sent from Python
with psycopg and nothing else (no ORM, no allocation), by one client and by two at once.

It answers "how fast could any design be that keeps one transaction and N round trips per
payment on this machine", the peer that `store_bench.py payments|open-items` compares the real
`post_payment` with (same process, same server, same load). The tables live in a schema of
their own, dropped afterwards.

    python benchmarks/floor.py --statements 5 10 17 20 --clients 1 2
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from collections.abc import Sequence

import psycopg

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
SCHEMA = "bench_floor"
ACCOUNTS = 10_000


def _dsn(url: str) -> str:
    """A libpq address from a SQLAlchemy one (`postgresql+psycopg://…`)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def prepare(url: str) -> None:
    with psycopg.connect(_dsn(url), autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        connection.execute(f"CREATE SCHEMA {SCHEMA}")
        connection.execute(
            f"CREATE TABLE {SCHEMA}.account (id int PRIMARY KEY, booked int NOT NULL DEFAULT 0)"
        )
        connection.execute(
            f"CREATE TABLE {SCHEMA}.payment (id bigserial PRIMARY KEY, key text UNIQUE, "
            "account int NOT NULL, amount_fen bigint NOT NULL)"
        )
        connection.execute(
            f"CREATE TABLE {SCHEMA}.posting (id bigserial PRIMARY KEY, account int NOT NULL, "
            "key text NOT NULL, amount_fen bigint NOT NULL)"
        )
        connection.execute(
            f"CREATE TABLE {SCHEMA}.open_item (account int, bill int, principal_fen bigint, "
            "PRIMARY KEY (account, bill))"
        )
        connection.execute(
            f"INSERT INTO {SCHEMA}.account (id) SELECT g FROM generate_series(1, {ACCOUNTS}) g"
        )
        connection.execute(
            f"INSERT INTO {SCHEMA}.open_item SELECT g, b, 5000 "
            f"FROM generate_series(1, {ACCOUNTS}) g, generate_series(1, 3) b"
        )
        connection.execute(f"ANALYZE {SCHEMA}.account, {SCHEMA}.open_item")


def drop(url: str) -> None:
    with psycopg.connect(_dsn(url), autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def _client(url: str, client: int, statements: int, transactions: int, tag: str) -> None:
    with psycopg.connect(_dsn(url)) as connection:
        for n in range(transactions):
            account = (n * 7919 + client * 104_729) % ACCOUNTS + 1
            with connection.transaction():
                connection.execute(
                    f"SELECT id FROM {SCHEMA}.account WHERE id = %s FOR UPDATE", (account,)
                ).fetchone()
                connection.execute(
                    f"SELECT principal_fen FROM {SCHEMA}.open_item WHERE account = %s",
                    (account,),
                ).fetchall()
                connection.execute(
                    f"INSERT INTO {SCHEMA}.payment (key, account, amount_fen) "
                    "VALUES (%s, %s, 100) ON CONFLICT DO NOTHING RETURNING id",
                    (f"{tag}-{client}-{n}", account),
                ).fetchone()
                for _ in range(statements - 5):
                    connection.execute(
                        f"INSERT INTO {SCHEMA}.posting (account, key, amount_fen) "
                        "VALUES (%s, 'pay', -100)",
                        (account,),
                    )
                connection.execute(
                    f"UPDATE {SCHEMA}.open_item SET principal_fen = principal_fen - 1 "
                    "WHERE account = %s AND bill = 1",
                    (account,),
                )
                connection.execute(
                    f"UPDATE {SCHEMA}.account SET booked = booked + 1 WHERE id = %s", (account,)
                )


def floor_rate(url: str, statements: int, clients: int, transactions: int) -> float:
    """Transactions per second of `clients` processes, each sending `transactions`
    payment-shaped transactions of `statements` statements (at least 5); the tables must
    exist (`prepare`)."""
    statements = max(statements, 5)
    tag = f"{os.getpid()}-{time.monotonic_ns()}"
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=_client, args=(url, c, statements, transactions, tag))
        for c in range(clients)
    ]
    began = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise RuntimeError(f"a floor client failed (exit {worker.exitcode})")
    return clients * transactions / (time.perf_counter() - began)


def measure(url: str, statements: Sequence[int], clients: Sequence[int], transactions: int) -> None:
    prepare(url)
    try:
        for count in statements:
            for n in clients:
                rate = floor_rate(url, count, n, transactions)
                print(
                    f"floor: {count} statements a transaction, {n} client(s): {rate:,.0f} "
                    f"transactions/s ({1000 / rate * n:.2f} ms each per client)",
                    flush=True,
                )
    finally:
        drop(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("SANBUTING_BENCH_PG_URL", PG_URL))
    parser.add_argument("--statements", type=int, nargs="+", default=[5, 10, 17, 20])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--transactions", type=int, default=3_000, help="per client")
    args = parser.parse_args()
    measure(args.url, args.statements, args.clients, args.transactions)


if __name__ == "__main__":
    main()
