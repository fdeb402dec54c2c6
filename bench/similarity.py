"""Similarity keys bench (run by hand, not a test): recall, false positives, bucket sizes.

    .venv/bin/python bench/similarity.py                      # 100,000 identities, seed 17
    .venv/bin/python bench/similarity.py --people 20000 --pairs 2000
    .venv/bin/python bench/similarity.py --names faker        # Faker's 400 surnames only
    .venv/bin/pip install jellyfish && .venv/bin/python bench/similarity.py --compare-phonetics
    .venv/bin/python bench/similarity.py --database 100000     # + import and look-ups on SQLite
    .venv/bin/python bench/similarity.py --database 100000 --backend postgresql   # PG 15

It builds a synthetic French population in memory (Faker's fr_FR name lists, weighted by
rank, plus invented rare surnames for the long tail, compound and particle names, birth
dates 1966–2010), computes every identity's similarity keys with cohort/identity/
similarity.py under a random key, and then:

- per variant kind (respelling, one-letter typos, swapped day/month, compound names
  joined or shortened; and a birth-date typo the keys do not claim to catch), the recall:
  the share of (person, variant) pairs sharing at least one key, and the share where the
  person is among the 5 candidates the variant's registration would show;
- the false positives: pairs of distinct people sharing a key, and the candidate list
  size each registration would get (before the cap of 5);
- the equality classes the full keys make (people per key: max, 99th percentile), and
  what the database stores: the truncated buckets per birth month (coincidences per
  registration, i.e. identities possible_duplicates decrypts to confirm);
- the time to compute the keys.

The in-memory candidate logic is possible_duplicates' own (shared full keys, exact
pseudonym matches left out, ranked by keys shared, capped at 5). With --database N, the
first N identities are also imported into a fresh SQLite database (or a throwaway
PostgreSQL 15 cluster, started as bench/indicators.py does) through the CSV importer, and
possible_duplicates itself is timed on respelled and mistyped probes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import secrets
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cohort.identity import similarity  # noqa: E402  (after the path is set)
from cohort.identity.keyring import Purpose, PurposeKeys  # noqa: E402
from cohort.identity.normalise import identity_key, normalise_name  # noqa: E402

Identity = tuple[str, str, dt.date]
MAX_CANDIDATES = 5
PARTICLES = ("Le ", "La ", "De ", "Du ", "Des ", "Van ")
SYLLABLES = ("ba", "be", "bo", "ca", "ce", "co", "da", "de", "di", "fa", "fe", "ga", "gi",
             "ja", "la", "le", "li", "lo", "ma", "me", "mi", "mo", "na", "ne", "no", "pa",
             "pe", "po", "ra", "re", "ri", "ro", "sa", "se", "si", "so", "ta", "te", "ti",
             "to", "va", "ve", "vi", "zo", "chau", "lai", "mou", "rou", "quin", "gnon")
ENDINGS = ("", "t", "d", "s", "x", "n", "l", "r", "rt", "nd", "ard", "ier", "et", "ot", "in",
           "eau", "aud", "y", "e", "on", "ez")


def population(rng: random.Random, n: int, names: str) -> list[Identity]:
    """n synthetic identities (never real ones): weighted common names plus a long tail."""
    from faker.providers.person.fr_FR import Provider

    last = list(Provider.last_names)
    firsts = list(dict.fromkeys([*Provider.first_names_male, *Provider.first_names_female]))
    last_w = [1 / (rank + 20) for rank in range(len(last))]
    first_w = [1 / (rank + 10) for rank in range(len(firsts))]
    start, days = dt.date(1966, 1, 1), (dt.date(2010, 12, 31) - dt.date(1966, 1, 1)).days

    def surname() -> str:
        if names == "mixed" and rng.random() < 0.45:  # the long tail: invented, rarely shared
            word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
            return (word + rng.choice(ENDINGS)).capitalize()
        return rng.choices(last, last_w)[0]

    out = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.08:
            name = f"{surname()}{rng.choice(['-', ' '])}{surname()}"
        elif roll < 0.13:
            name = rng.choice(PARTICLES) + surname()
        else:
            name = surname()
        first = rng.choices(firsts, first_w)[0]
        if rng.random() < 0.1:
            first = f"{first}-{rng.choices(firsts, first_w)[0]}"
        out.append((name, first, start + dt.timedelta(days=rng.randrange(days + 1))))
    return out


# French respellings of one sound (the variants coordinators type), applied once each.
RESPELL = [(re.compile(p), r) for p, r in (
    (r"t$", "d"), (r"d$", "t"), (r"nn", "n"), (r"(?<=[aeiou])n(?=[aeiou])", "nn"),
    (r"ll", "l"), (r"(?<=[aeiou])l(?=[aeiou])", "ll"), (r"tt", "t"), (r"ss", "s"),
    (r"ph", "f"), (r"c(?=[aou])", "k"), (r"y", "i"), (r"i(?=[aou])", "y"), (r"eau", "o"),
    (r"au", "o"), (r"ai", "é"), (r"er$", "é"), (r"ez$", "é"), (r"(?<=[^s])s$", ""),
    (r"x$", ""), (r"(?<=[aeiou])$", "s"), (r"(?<=[aeiou])$", "t"), (r"qu", "k"),
    (r"gu(?=[ei])", "gh"), (r"(?<=[aeiou])s(?=[aeiou])", "z"), (r"ch", "sch"),
    (r"(?<=[aeiou])m(?=[bp])", "n"), (r"ou", "oo"), (r"oi", "oy"), (r"th", "t"),
)]


def respell(rng: random.Random, name: str) -> str | None:
    text = name.lower()
    rules = [(p, r) for p, r in RESPELL if p.search(text)]
    if not rules:
        return None
    pattern, repl = rng.choice(rules)
    return pattern.sub(repl, text, count=1).capitalize()


def typo(rng: random.Random, name: str) -> str:
    """One keyboard slip: a letter replaced, dropped, doubled in, or two swapped."""
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    i = rng.choice(letters)
    op = rng.choice(("sub", "del", "ins", "swap"))
    other = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if op == "sub":
        return name[:i] + other + name[i + 1:]
    if op == "del" and len(letters) > 2:
        return name[:i] + name[i + 1:]
    if op == "swap" and i + 1 < len(name) and name[i + 1].isalpha():
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    return name[:i] + other + name[i:]


def _parts(name: str) -> list[str]:
    return [p for p in re.split(r"[- ]", name) if p]


def variants(rng: random.Random) -> dict[str, Callable[[Identity], Identity | None]]:
    """Variant kind → how to respell an identity (None: not applicable to this one)."""
    def swap(who: Identity) -> Identity | None:
        last, first, born = who
        if born.day > 12 or born.day == born.month:
            return None
        return last, first, born.replace(month=born.day, day=born.month)

    def joined(who: Identity) -> Identity | None:
        last, first, born = who
        if len(_parts(last)) < 2:
            return None
        return "".join(_parts(last)).capitalize(), first, born

    def shortened(who: Identity) -> Identity | None:
        last, first, born = who
        parts = _parts(last)
        if len(parts) < 2 or any(p.lower() in ("le", "la", "de", "du", "des", "van")
                                 for p in parts):
            return None
        return rng.choice(parts), first, born

    def day_typo(who: Identity) -> Identity | None:
        last, first, born = who
        return last, first, born + dt.timedelta(days=rng.choice((-1, 1)))

    def respelled(who: Identity) -> Identity | None:
        spelt = respell(rng, who[0])
        return None if spelt is None else (spelt, who[1], who[2])

    def issue_like(who: Identity) -> Identity | None:
        """The issue's case: a compound name respelled AND re-punctuated at once."""
        last, first, born = who
        parts = _parts(last)
        if len(parts) < 2:
            return None
        spelt = respell(rng, parts[0]) or parts[0]
        return f"{spelt}{rng.choice(['', ' ', '-'])}{''.join(parts[1:])}", first, born

    return {
        "respelling (last name)": respelled,
        "typo, last name": lambda w: (typo(rng, w[0]), w[1], w[2]),
        "typo, first names": lambda w: (w[0], typo(rng, w[1]), w[2]),
        "day/month swapped": swap,
        "compound joined": joined,
        "compound respelled + re-punctuated": issue_like,
        "compound shortened to one part": shortened,
        "birth day ±1 (not claimed)": day_typo,
    }


def full_key_ids(key: bytes, who: Identity) -> frozenset[tuple[str, bytes]]:
    texts = similarity.key_texts(*who)
    return frozenset((str(k), d[:8]) for k, d in similarity.full_keys(key, texts))


def exact(who: Identity) -> str:
    return identity_key(*who)


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0


def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    key = secrets.token_bytes(32)
    people = population(rng, args.people, args.names)
    print(f"# similarity keys bench — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
          f"{len(people):,} identities ({args.names} names), seed {args.seed}, "
          f"DIGEST_BITS={similarity.DIGEST_BITS}, LAST_NAME_PREFIX="
          f"{similarity.LAST_NAME_PREFIX}\n")

    started = time.perf_counter()
    keysets = [full_key_ids(key, who) for who in people]
    elapsed = time.perf_counter() - started
    purpose = PurposeKeys(Purpose.SIMILARITY, 1, {1: key})
    started = time.perf_counter()
    for who in people[:20000]:
        similarity.stored_keys(purpose, 1, similarity.key_texts(*who))
    stored_us = (time.perf_counter() - started) / min(20000, len(people)) * 1e6
    exacts = [exact(who) for who in people]
    print(f"keys: {sum(map(len, keysets)) / len(people):.2f} per identity; full keys for all "
          f"in {elapsed:.2f} s ({elapsed / len(people) * 1e6:.1f} µs/identity); stored "
          f"(truncated) keys {stored_us:.1f} µs/identity\n")

    index: dict[tuple[str, bytes], list[int]] = defaultdict(list)
    for i, keyset in enumerate(keysets):
        for k in keyset:
            index[k].append(i)

    def candidates(keyset: frozenset[tuple[str, bytes]], ident: str, me: int | None
                   ) -> Counter[int]:
        shared: Counter[int] = Counter()
        for k in keyset:
            for j in index.get(k, ()):
                if j != me and exacts[j] != ident:
                    shared[j] += 1
        return shared

    # Recall per variant kind.
    print("| variant | pairs | exact (already known) | recall: share a key | "
          "recall: in the top 5 | keys that matched |")
    print("|---|---:|---:|---:|---:|---|")
    for name, make in variants(rng).items():
        pairs = shared_any = top5 = exact_n = 0
        kinds: Counter[str] = Counter()
        for i in rng.sample(range(len(people)), len(people)):
            if pairs >= args.pairs:
                break
            variant = make(people[i])
            if variant is None:
                continue
            try:
                ident = exact(variant)
            except ValueError:
                continue
            if ident == exacts[i]:
                exact_n += 1
                continue
            pairs += 1
            vkeys = full_key_ids(key, variant)
            common = vkeys & keysets[i]
            kinds.update({k for k, _ in common})
            if common:
                shared_any += 1
                ranked = sorted(candidates(vkeys, ident, None).items(),
                                key=lambda item: (-item[1], item[0]))[:MAX_CANDIDATES]
                top5 += any(j == i for j, _ in ranked)
        top = ", ".join(f"{k} {n / max(pairs, 1):.0%}" for k, n in kinds.most_common())
        print(f"| {name} | {pairs:,} | {exact_n:,} | {shared_any / max(pairs, 1):.3f} | "
              f"{top5 / max(pairs, 1):.3f} | {top} |")

    # False positives: distinct people who share a key.
    sizes = []
    for i, keyset in enumerate(keysets):
        sizes.append(len(candidates(keyset, exacts[i], i)))
    pairs_sharing = sum(sizes) // 2
    total_pairs = len(people) * (len(people) - 1) // 2
    dist = Counter(min(s, 6) for s in sizes)
    print(f"\nfalse positives: {pairs_sharing:,} pairs of distinct people share a key "
          f"(rate {pairs_sharing / total_pairs:.2e} of {total_pairs:,} pairs); "
          f"{sum(1 for s in sizes if s) / len(people):.2%} of registrations get ≥ 1 candidate")
    print("candidates per registration before the cap: " + ", ".join(
        f"{'≥6' if k == 6 else k}: {dist[k]:,}" for k in range(7)) +
        f"; max {max(sizes)}; after the cap max {min(max(sizes), MAX_CANDIDATES)}")

    by_kind: dict[str, list[int]] = defaultdict(list)
    for (kind, _), members in index.items():
        by_kind[kind].append(len(members))
    print("\n| kind | distinct keys | people per key: max | 99th pct | share of keys held by "
          "≥ 2 people |")
    print("|---|---:|---:|---:|---:|")
    for kind, counts in sorted(by_kind.items()):
        print(f"| {kind} | {len(counts):,} | {max(counts)} | {pct(counts, 0.99)} | "
              f"{sum(1 for c in counts if c > 1) / len(counts):.2%} |")

    # What the database shows: truncated buckets within a clear birth month.
    stored: Counter[tuple[str, int, str]] = Counter()
    stored_of = []
    for who in people:
        months = similarity.birth_months(who[2])
        mine = similarity.stored_keys(purpose, 1, similarity.key_texts(*who))
        own_month = f"{who[2].year:04d}-{who[2].month:02d}"
        stored.update((kind, digest, own_month) for kind, digest in mine)
        stored_of.append((mine, months))
    fetched = []
    for mine, months in stored_of:
        fetched.append(sum(stored[(kind, digest, m)] for kind, digest in mine for m in months)
                       - len(mine))
    per_bucket = list(stored.values())
    print(f"\nstored buckets (kind, {similarity.DIGEST_BITS}-bit digest, clear birth month): "
          f"{len(per_bucket):,}; people per bucket mean {statistics.mean(per_bucket):.2f}, "
          f"99th pct {pct(per_bucket, 0.99)}, max {max(per_bucket)}")
    print(f"identities a registration decrypts to confirm (rows its buckets return): mean "
          f"{statistics.mean(fetched):.1f}, 99th pct {pct(fetched, 0.99)}, max {max(fetched)}")

    attacker_view(rng, people, purpose)
    if args.compare_phonetics:
        compare_phonetics(rng, people, key)
    if args.database:
        database_check(rng, people[:args.database], args.backend)


@dataclass
class Imported:
    """A database of `people` registered through the project's importer."""

    ring: Any
    engine: Any
    factory: Any
    created: int
    unchanged: int
    seconds: float


def import_identities(tmp: Path, url: str, people: Sequence[Identity]) -> Imported:
    """Migrate `url`, write a key file in `tmp` and import `people` in one process
    (similarity keys included), as this bench and bench/duplicate_report.py need."""
    from alembic import command

    from cohort.cli import alembic_config
    from cohort.db import make_engine, make_sessionmaker
    from cohort.identity.keyring import generate_key_file, load_keyring
    from cohort.importer.participants import import_participants

    command.upgrade(alembic_config(url), "head")
    generate_key_file(tmp / "keys.toml", demo=False)
    ring = load_keyring(str(tmp / "keys.toml"), env={})
    source = tmp / "participants.csv"
    with source.open("w", encoding="utf-8") as fh:
        fh.write("last_name;first_names;birth_date\n")
        fh.writelines(f"{a};{b};{c.isoformat()}\n" for a, b, c in people)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    with factory() as session, session.begin():
        result = import_participants(session, ring, source, today=now.date(), now=now,
                                     workers=0)
    return Imported(ring, engine, factory, result.created, result.unchanged,
                    time.perf_counter() - started)


def database_check(rng: random.Random, people: list[Identity], backend: str) -> None:
    """Import the people into a fresh database, then time possible_duplicates on probes."""
    import shutil
    import tempfile

    from cohort.services.duplicates import possible_duplicates
    from cohort.services.participants import find_by_pseudonym, pseudonyms_of

    tmp = Path(tempfile.mkdtemp(prefix="bench-similarity-"))
    cluster = None
    try:
        if backend == "postgresql":
            sys.path.insert(0, str(ROOT / "bench"))
            from indicators import Cluster, _pg_database

            cluster = Cluster(Path(tempfile.mkdtemp(prefix="bench-similarity-pg-")))
            url, _ = _pg_database(cluster.start(), "similarity_bench", drop=True)
        else:
            url = f"sqlite:///{tmp}/similarity.db"
        imported = import_identities(tmp, url, people)
        ring, engine, factory = imported.ring, imported.engine, imported.factory
        result, took = imported, imported.seconds
        print(f"\n{backend}: imported {result.created:,} participants ({result.unchanged:,} "
              f"already known) in {took:.1f} s, {result.created / took:,.0f}/s, one process, "
              "similarity keys included")
        kinds = variants(rng)
        for name in ("typo, last name", "compound respelled + re-punctuated",
                     "day/month swapped"):
            times, found, probes = [], 0, 0
            with factory() as session, session.begin():
                for i in rng.sample(range(len(people)), len(people)):
                    if probes >= 300:
                        break
                    variant = kinds[name](people[i])
                    if variant is None or exact(variant) == exact(people[i]):
                        continue
                    base = dict(zip(("last_name", "first_names", "birth_date"), people[i],
                                    strict=True))
                    probe = dict(zip(("last_name", "first_names", "birth_date"), variant,
                                     strict=True))
                    known = find_by_pseudonym(session, pseudonyms_of(ring, base))
                    started = time.perf_counter()
                    candidates = possible_duplicates(session, ring, probe, structure_id=None)
                    times.append((time.perf_counter() - started) * 1000)
                    probes += 1
                    found += known is not None and any(
                        c.participant_id == known.id for c in candidates)
            print(f"possible_duplicates, {name}: {probes} probes, found {found / probes:.3f}, "
                  f"median {statistics.median(times):.1f} ms, 99th pct {pct(times, 0.99):.1f} "
                  f"ms, max {max(times):.1f} ms")
        engine.dispose()
    finally:
        shutil.rmtree(tmp)
        if cluster is not None:
            cluster.stop()
            shutil.rmtree(cluster.folder)


def attacker_view(rng: random.Random, people: list[Identity], purpose: PurposeKeys) -> None:
    """What the database alone tells: stored buckets two rows of one birth month share.

    Someone holding the database but not the key sees each row's (kind, truncated digest)
    and its clear birth month. Rows of true variants share several buckets; rows of
    different people share some by coincidence. How well does the count separate them?
    """
    def stored(who: Identity) -> frozenset[tuple[str, int]]:
        return similarity.stored_keys(purpose, 1, similarity.key_texts(*who))

    def month(who: Identity) -> str:
        return f"{who[2].year:04d}-{who[2].month:02d}"

    by_month: dict[str, list[int]] = defaultdict(list)
    for i, who in enumerate(people):
        by_month[month(who)].append(i)
    same_month_pairs = sum(len(m) * (len(m) - 1) // 2 for m in by_month.values())
    random_counts: Counter[int] = Counter()
    groups = [m for m in by_month.values() if len(m) > 1]
    sample = 200_000
    for _ in range(sample):
        a, b = rng.sample(rng.choice(groups), 2)
        random_counts[len(stored(people[a]) & stored(people[b]))] += 1
    kinds = variants(rng)
    print(f"\nthe database alone (no key): stored buckets shared by two rows of one birth "
          f"month; {same_month_pairs:,} same-month pairs of distinct people, "
          f"{sample:,} sampled")
    print("| shared buckets ≥ | random same-month pairs (estimated count) | "
          + " | ".join(["typo, last name", "respelling (last name)", "day/month swapped"])
          + " |")
    print("|---:|---:|---:|---:|---:|")
    variant_counts = {}
    for name in ("typo, last name", "respelling (last name)", "day/month swapped"):
        counts: Counter[int] = Counter()
        n = 0
        for i in rng.sample(range(len(people)), min(3000, len(people))):
            v = kinds[name](people[i])
            if v is None or exact(v) == exact(people[i]):
                continue
            counts[len(stored(people[i]) & stored(v))] += 1
            n += 1
        variant_counts[name] = (counts, n)
    for t in range(1, 8):
        rand = sum(c for k, c in random_counts.items() if k >= t) / sample
        cells = [f"{sum(c for k, c in counts.items() if k >= t) / n:.3f}"
                 for counts, n in variant_counts.values()]
        print(f"| {t} | {rand:.2e} (≈ {rand * same_month_pairs:,.0f}) | " + " | ".join(cells)
              + " |")


def compare_phonetics(rng: random.Random, people: list[Identity], key: bytes) -> None:
    """The last-name + birth-date key alone, under other phonetic codes (jellyfish)."""
    import jellyfish

    codes: dict[str, Callable[[str], str]] = {
        "french_phonetic (ours)": similarity.french_phonetic,
        "none (normalised, joined)": lambda s: s,
        "jellyfish.soundex": jellyfish.soundex,
        "jellyfish.metaphone": jellyfish.metaphone,
        "jellyfish.nysiis": jellyfish.nysiis,
        "jellyfish.match_rating_codex": jellyfish.match_rating_codex,
    }
    kinds = variants(rng)
    chosen = ["respelling (last name)", "typo, last name", "compound joined",
              "compound respelled + re-punctuated"]
    samples = {}
    for name in chosen:
        pairs = []
        for i in rng.sample(range(len(people)), len(people)):
            v = kinds[name](people[i])
            if v is not None and exact(v) != exact(people[i]):
                pairs.append((people[i], v))
            if len(pairs) >= 3000:
                break
        samples[name] = pairs
    print("\n| phonetic code (last name + birth date key alone) | " + " | ".join(chosen) +
          " | people per key: max | 99th pct | pairs of distinct people sharing |")
    print("|---|" + "---:|" * (len(chosen) + 3))
    for label, code in codes.items():
        def k(who: Identity, code: Callable[[str], str] = code) -> tuple[str, dt.date]:
            return code(normalise_name(who[0]).replace(" ", "")), who[2]
        recalls = [sum(k(a) == k(b) for a, b in samples[name]) / max(len(samples[name]), 1)
                   for name in chosen]
        buckets = Counter(k(who) for who in people)
        counts = list(buckets.values())
        same = sum(c * (c - 1) // 2 for c in counts)
        print(f"| {label} | " + " | ".join(f"{r:.3f}" for r in recalls) +
              f" | {max(counts)} | {pct(counts, 0.99)} | {same:,} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=5_000, help="pairs per variant kind")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--names", choices=("mixed", "faker"), default="mixed",
                        help="faker: Faker's 400 surnames only (a pessimistic population)")
    parser.add_argument("--database", type=int, default=0, metavar="N",
                        help="also import the first N identities into SQLite and time "
                             "possible_duplicates")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--compare-phonetics", action="store_true",
                        help="also measure jellyfish's codes (pip install jellyfish)")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
