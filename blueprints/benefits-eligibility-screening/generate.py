"""Synthetic applicants to Example City's Household Stability Assistance programme.

Every row is a household that applied for help with rent and utility bills. Nothing here is
real: names, addresses, phone numbers and e-mail addresses are assembled from small built-in
word lists (phone numbers use the fictional 555 area code, e-mail addresses the reserved
``example.*`` domains).

The data-generating process, in order (the README explains it in plain words):

1. Demographics. ``race_ethnicity`` is drawn with unequal group sizes (one small group of a few
   hundred rows), then ``sex`` and ``age_band``.
2. Residential segregation. ``neighbourhood`` (12 zones) is drawn *given* ``race_ethnicity``
   from a zone-composition table, so where a household lives is correlated with its group.
   Each zone belongs to one of four ``service_district`` values and has a typical
   ``distance_to_office_km`` to the downtown benefits office.
3. Circumstances. Employment, household size, dependents, income, housing tenure, housing
   cost, months at the address, prior applications and disability in the household follow
   from age, zone and each other.
4. The programme rules (the *intended* decision): a household-size-adjusted income limit
   combined with rent burden, plus a very-low-income rule and a disability allowance.
5. The recorded label ``eligible`` is what caseworkers decided in the past, not the rule:
   a few percent of decisions are simply noisy, and two documented historical biases lower the
   approval of eligible households from some zones:
   - in the four zones once served by the east-side satellite office (closed in 2016),
     caseworkers applied a stricter de-facto income limit (60 % of the official one), because
     those applicants were asked for more income documentation;
   - eligible households far from the downtown office more often missed the in-person
     appointment, and a missed appointment was recorded as a denial.
   Because of step 2, both biases fall unevenly on ``race_ethnicity`` groups, and a model that
   uses ``distance_to_office_km`` or ``service_district`` learns them.
6. Missing values: ``months_at_address`` (about 4 %) and ``employment_status`` (about 2.5 %) are
   left blank at random, as on real intake forms.

Deterministic: the same ``--rows`` and ``--seed`` give a byte-identical CSV. It runs inside the
runner container, never on the host (``sandbox blueprint check`` runs it there twice):

    python3 generate.py --out DIR [--seed 2026] [--rows 40000]     # writes DIR/households.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_ROWS = 40_000
DEFAULT_SEED = 2026  # the seed data/SHA256SUMS was made with
FILE_NAME = "households.csv"

RACE_GROUPS = ("White", "Black", "Hispanic or Latino", "Asian", "American Indian or Alaska Native")
RACE_SHARES = (0.455, 0.245, 0.195, 0.095, 0.010)

SEXES = ("female", "male")
SEX_SHARES = (0.58, 0.42)

AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
AGE_SHARES = (0.10, 0.24, 0.22, 0.17, 0.14, 0.13)

# name, service district, mean distance to the downtown office (km), income factor,
# served by the closed east-side satellite office (historically stricter decisions)
ZONES = (
    ("Old Town", "Central", 1.6, 1.00, False),
    ("Riverside", "Central", 2.6, 0.99, False),
    ("Foundry Row", "Central", 3.2, 0.96, False),
    ("Northfield", "North", 6.0, 1.04, False),
    ("Cedar Heights", "North", 7.4, 1.06, False),
    ("Lakeshore", "North", 5.4, 1.03, False),
    ("Eastgate", "East", 8.6, 0.98, True),
    ("Mill Creek", "East", 10.2, 0.97, True),
    ("Harbor View", "East", 7.2, 1.00, True),
    ("Southpoint", "South", 9.0, 0.99, True),
    ("Maple Park", "South", 6.6, 1.01, False),
    ("Westbrook", "South", 5.2, 1.03, False),
)

# Relative weight of each zone (rows, in ZONES order) for each group (columns, RACE_GROUPS order).
# Normalised per group: this is the residential-segregation table.
ZONE_WEIGHTS = np.array(
    [
        [1.0, 1.0, 1.0, 1.5, 1.0],
        [1.0, 0.8, 1.2, 1.6, 0.9],
        [0.6, 1.3, 1.5, 0.8, 1.0],
        [1.7, 0.4, 0.6, 1.2, 0.8],
        [1.6, 0.3, 0.5, 1.4, 0.6],
        [1.4, 0.5, 0.7, 1.0, 1.0],
        [0.3, 2.8, 1.6, 0.6, 1.6],
        [0.3, 2.2, 2.4, 0.5, 2.0],
        [0.6, 1.6, 2.0, 1.0, 1.4],
        [0.6, 1.8, 1.4, 0.7, 3.0],
        [1.3, 0.8, 0.9, 1.0, 1.0],
        [1.4, 0.6, 0.7, 1.2, 0.8],
    ]
)

EMPLOYMENT = ("full_time", "part_time", "self_employed", "unemployed", "retired", "unable_to_work")
TENURE = ("renter", "owner", "subsidised", "with_family")

# Programme rules (monthly amounts, in dollars).
INCOME_LIMIT_BASE = 2_000
INCOME_LIMIT_PER_PERSON = 680
RENT_BURDEN_MIN = 0.30
VERY_LOW_INCOME_FACTOR = 0.45
DISABILITY_INCOME_FACTOR = 1.2
DISABILITY_BURDEN_MIN = 0.25
# Historical practice (the documented biases in the recorded label).
SATELLITE_ZONE_LIMIT_FACTOR = 0.60
MISSED_APPOINTMENT_PER_KM = 0.035
RECORD_NOISE = 0.04

FIRST_NAMES = [
    "Aaliyah",
    "Aisha",
    "Alejandro",
    "Amara",
    "Ana",
    "Andre",
    "Anh",
    "Ashley",
    "Ayesha",
    "Brandon",
    "Carlos",
    "Carmen",
    "Chen",
    "Daniel",
    "Darnell",
    "David",
    "Deshawn",
    "Diego",
    "Elena",
    "Emily",
    "Fatima",
    "Grace",
    "Hana",
    "Imani",
    "Isabel",
    "Jamal",
    "James",
    "Jasmine",
    "Jose",
    "Juan",
    "Kayla",
    "Keisha",
    "Kevin",
    "Lakota",
    "Laura",
    "Lucia",
    "Luis",
    "Maria",
    "Mariana",
    "Mei",
    "Michael",
    "Minh",
    "Nadia",
    "Nia",
    "Omar",
    "Priya",
    "Rahul",
    "Raven",
    "Rosa",
    "Samuel",
    "Sarah",
    "Sofia",
    "Tamika",
    "Tyrone",
    "Wei",
    "Yusuf",
    "Zoe",
]
LAST_NAMES = [
    "Adams",
    "Alvarez",
    "Anderson",
    "Baker",
    "Begay",
    "Brooks",
    "Campbell",
    "Castillo",
    "Chen",
    "Clark",
    "Cruz",
    "Davis",
    "Diaz",
    "Edwards",
    "Evans",
    "Flores",
    "Garcia",
    "Gomez",
    "Green",
    "Hall",
    "Harris",
    "Hernandez",
    "Huang",
    "Jackson",
    "Johnson",
    "Jones",
    "Kim",
    "Lee",
    "Lewis",
    "Lopez",
    "Martin",
    "Martinez",
    "Miller",
    "Moore",
    "Morales",
    "Nguyen",
    "Nez",
    "Ortiz",
    "Park",
    "Patel",
    "Perez",
    "Ramirez",
    "Reyes",
    "Rivera",
    "Robinson",
    "Rodriguez",
    "Sanchez",
    "Scott",
    "Singh",
    "Smith",
    "Taylor",
    "Thomas",
    "Thompson",
    "Torres",
    "Tran",
    "Walker",
    "Washington",
    "White",
    "Williams",
    "Wilson",
    "Wright",
    "Young",
]
STREETS = [
    "Ash",
    "Birch",
    "Canal",
    "Cedar",
    "Chestnut",
    "Church",
    "Cleveland",
    "Elm",
    "Franklin",
    "Garfield",
    "Grant",
    "Hawthorne",
    "Hickory",
    "Highland",
    "Jackson",
    "Jefferson",
    "Lincoln",
    "Locust",
    "Madison",
    "Maple",
    "Market",
    "Mill",
    "Oak",
    "Orchard",
    "Park",
    "Pine",
    "Pleasant",
    "Prospect",
    "River",
    "Spruce",
    "Spring",
    "Sycamore",
    "Union",
    "Vine",
    "Walnut",
    "Washington",
    "Water",
    "Willow",
]
STREET_SUFFIXES = ("St", "Ave", "Rd", "Dr", "Ln", "Ct", "Pl", "Way", "Blvd")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

COLUMNS = (
    "household_id",
    "full_name",
    "street_address",
    "phone",
    "email",
    "race_ethnicity",
    "sex",
    "age_band",
    "neighbourhood",
    "service_district",
    "distance_to_office_km",
    "household_size",
    "dependents",
    "employment_status",
    "monthly_income",
    "housing_tenure",
    "monthly_housing_cost",
    "rent_burden_ratio",
    "months_at_address",
    "prior_applications",
    "has_disability_member",
    "eligible",
)


def _pick(rng: np.random.Generator, options: tuple[str, ...] | list[str], n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), size=n)]


def _categorical(
    rng: np.random.Generator, options: tuple[str, ...], probs: np.ndarray
) -> np.ndarray:
    """Draw one option per row from row-specific probabilities (n x k)."""
    cumulative = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(probs))[:, None]
    index = np.minimum((u > cumulative).sum(axis=1), len(options) - 1)
    return np.asarray(options, dtype=object)[index]


def programme_rule(
    income: np.ndarray, size: np.ndarray, burden: np.ndarray, disability: np.ndarray
) -> np.ndarray:
    """The published eligibility rule (what caseworkers were meant to apply)."""
    limit = INCOME_LIMIT_BASE + INCOME_LIMIT_PER_PERSON * (size - 1)
    standard = (income <= limit) & (burden >= RENT_BURDEN_MIN)
    very_low_income = income <= VERY_LOW_INCOME_FACTOR * limit
    disability_allowance = (
        (disability == 1)
        & (income <= DISABILITY_INCOME_FACTOR * limit)
        & (burden >= DISABILITY_BURDEN_MIN)
    )
    return standard | very_low_income | disability_allowance


def generate(rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Build the synthetic household table; deterministic in (rows, seed)."""
    if rows < 1:
        raise ValueError("rows must be at least 1")
    rng = np.random.default_rng(seed)
    n = rows

    # 1. Demographics.
    race_idx = rng.choice(len(RACE_GROUPS), size=n, p=RACE_SHARES)
    race = np.asarray(RACE_GROUPS, dtype=object)[race_idx]
    sex = np.asarray(SEXES, dtype=object)[rng.choice(len(SEXES), size=n, p=SEX_SHARES)]
    age_idx = rng.choice(len(AGE_BANDS), size=n, p=AGE_SHARES)
    age = np.asarray(AGE_BANDS, dtype=object)[age_idx]

    # 2. Residential segregation: zone given group.
    zone_probs = (ZONE_WEIGHTS / ZONE_WEIGHTS.sum(axis=0, keepdims=True)).T  # group x zone
    u = rng.random(n)
    cumulative = np.cumsum(zone_probs[race_idx], axis=1)
    zone_idx = np.minimum((u[:, None] > cumulative).sum(axis=1), len(ZONES) - 1)
    neighbourhood = np.asarray([z[0] for z in ZONES], dtype=object)[zone_idx]
    district = np.asarray([z[1] for z in ZONES], dtype=object)[zone_idx]
    zone_km = np.array([z[2] for z in ZONES])[zone_idx]
    zone_income = np.array([z[3] for z in ZONES])[zone_idx]
    satellite = np.array([z[4] for z in ZONES])[zone_idx]
    distance = np.clip(zone_km * rng.lognormal(0.0, 0.22, size=n), 0.3, 25.0).round(1)

    # 3. Circumstances.
    emp_probs = np.tile(np.array([0.40, 0.20, 0.06, 0.17, 0.05, 0.12]), (n, 1))
    emp_probs[age_idx == 0] = [0.30, 0.33, 0.03, 0.26, 0.00, 0.08]
    emp_probs[age_idx == 4] = [0.33, 0.16, 0.07, 0.14, 0.14, 0.16]
    emp_probs[age_idx == 5] = [0.08, 0.08, 0.03, 0.04, 0.67, 0.10]
    employment = _categorical(rng, EMPLOYMENT, emp_probs)

    adults = 1 + (rng.random(n) < np.where(age_idx >= 5, 0.35, 0.45)).astype(int)
    child_rate = np.array([0.8, 1.5, 1.7, 1.1, 0.4, 0.1])[age_idx]
    dependents = np.minimum(rng.poisson(child_rate), 6)
    household_size = adults + dependents

    base_income = {
        "full_time": 3_900,
        "part_time": 2_200,
        "self_employed": 3_000,
        "unemployed": 1_000,
        "retired": 1_900,
        "unable_to_work": 1_300,
    }
    income_mean = np.array([base_income[e] for e in employment], dtype=float)
    income_mean *= zone_income * (1.0 + 0.55 * (adults - 1))
    monthly_income = np.round(income_mean * rng.lognormal(-0.06, 0.36, size=n), -1).astype(int)
    monthly_income = np.maximum(monthly_income, 0)

    tenure_probs = np.tile(np.array([0.62, 0.16, 0.12, 0.10]), (n, 1))
    tenure_probs[age_idx == 0] = [0.58, 0.02, 0.08, 0.32]
    tenure_probs[age_idx >= 4] = [0.50, 0.30, 0.14, 0.06]
    housing_tenure = _categorical(rng, TENURE, tenure_probs)

    rent_mean = np.select(
        [housing_tenure == "renter", housing_tenure == "owner", housing_tenure == "subsidised"],
        [1_050.0, 1_150.0, 420.0],
        default=260.0,
    )
    rent_mean *= (0.8 + 0.2 * zone_income) * (1.0 + 0.08 * (household_size - 1))
    housing_cost = np.round(rent_mean * rng.lognormal(0.0, 0.25, size=n), -1).astype(int)
    burden = np.round(housing_cost / np.maximum(monthly_income, 200), 2)
    burden = np.minimum(burden, 3.0)

    stay_mean = np.where(housing_tenure == "owner", 110.0, 38.0) * (1.0 + 0.3 * (age_idx >= 4))
    months_at_address = np.minimum(rng.exponential(stay_mean).astype(int) + 1, 480)

    disability_p = np.array([0.08, 0.10, 0.13, 0.18, 0.24, 0.30])[age_idx]
    disability_p = np.where(employment == "unable_to_work", 0.9, disability_p)
    has_disability = (rng.random(n) < disability_p).astype(int)

    limit = INCOME_LIMIT_BASE + INCOME_LIMIT_PER_PERSON * (household_size - 1)
    need = (monthly_income < limit).astype(float)
    prior_applications = np.minimum(rng.poisson(0.4 + 0.6 * need), 6)

    # 4. The programme rule.
    rule = programme_rule(monthly_income, household_size, burden, has_disability)

    # 5. The recorded (historical) decision.
    recorded = rule.copy()
    stricter = satellite & rule & (monthly_income > SATELLITE_ZONE_LIMIT_FACTOR * limit)
    # the very-low-income rule was still honoured there
    stricter &= monthly_income > VERY_LOW_INCOME_FACTOR * limit
    recorded &= ~stricter
    missed = rng.random(n) < np.clip(MISSED_APPOINTMENT_PER_KM * (distance - 2.0), 0.0, 0.3)
    recorded &= ~missed
    flip = rng.random(n) < RECORD_NOISE
    recorded = np.where(flip, ~recorded, recorded)
    eligible = recorded.astype(int)

    # 6. Missing values on the intake form (at random).
    months_missing = rng.random(n) < 0.04
    employment_missing = rng.random(n) < 0.025

    # Synthetic PII (not every applicant gives a phone number or an e-mail address).
    first = _pick(rng, FIRST_NAMES, n)
    last = _pick(rng, LAST_NAMES, n)
    full_name = first + " " + last
    number = rng.integers(1, 3_000, size=n)
    street_name = _pick(rng, STREETS, n)
    suffix = _pick(rng, STREET_SUFFIXES, n)
    unit = rng.integers(1, 40, size=n)
    has_unit = (housing_tenure != "owner") & (rng.random(n) < 0.35)
    street_address = [
        f"{num} {name} {suf}" + (f" #{u}" if flat else "")
        for num, name, suf, u, flat in zip(number, street_name, suffix, unit, has_unit, strict=True)
    ]
    exchange = rng.integers(200, 1_000, size=n)
    line = rng.integers(0, 10_000, size=n)
    has_phone = rng.random(n) < 0.92
    phone = [
        f"555-{e:03d}-{x:04d}" if given else None
        for e, x, given in zip(exchange, line, has_phone, strict=True)
    ]
    digits = rng.integers(1, 100, size=n)
    domain = _pick(rng, EMAIL_DOMAINS, n)
    has_email = rng.random(n) < 0.70
    email = [
        f"{f[0]}{la}{d}@{dom}".lower() if given else None
        for f, la, d, dom, given in zip(first, last, digits, domain, has_email, strict=True)
    ]

    frame = pd.DataFrame(
        {
            "household_id": [f"HH-{i:05d}" for i in range(1, n + 1)],
            "full_name": full_name,
            "street_address": street_address,
            "phone": phone,
            "email": email,
            "race_ethnicity": race,
            "sex": sex,
            "age_band": age,
            "neighbourhood": neighbourhood,
            "service_district": district,
            "distance_to_office_km": distance,
            "household_size": household_size,
            "dependents": dependents,
            "employment_status": pd.Series(employment, dtype=object).where(~employment_missing),
            "monthly_income": monthly_income,
            "housing_tenure": housing_tenure,
            "monthly_housing_cost": housing_cost,
            "rent_burden_ratio": burden,
            "months_at_address": pd.array(months_at_address, dtype="Int64"),
            "prior_applications": prior_applications,
            "has_disability_member": has_disability,
            "eligible": eligible,
        },
        columns=list(COLUMNS),
    )
    frame.loc[months_missing, "months_at_address"] = pd.NA
    return frame


def write_csv(frame: pd.DataFrame, out: Path) -> None:
    """Write the table with fixed formatting so the bytes depend only on the values."""
    out.parent.mkdir(parents=True, exist_ok=True)
    text = frame.to_csv(index=False, lineterminator="\n", na_rep="")
    out.write_bytes(text.encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write households.csv to")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="number of households")
    args = parser.parse_args(argv)
    frame = generate(rows=args.rows, seed=args.seed)
    write_csv(frame, args.out / FILE_NAME)
    print(f"wrote {len(frame)} rows to {args.out / FILE_NAME}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
