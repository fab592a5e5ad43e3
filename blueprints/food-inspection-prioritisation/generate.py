"""Synthetic food-establishment inspections in Example City, in the shape of a city's open data.

Every row is one inspection of a food establishment (a restaurant, a grocery store, a school
kitchen, ...). Nothing here is real: business names, owners, phone numbers and addresses are
assembled from small built-in word lists (phone numbers use the fictional 555 exchange).

The data-generating process, in order (README.md explains it in plain words):

1. Neighbourhoods. Eight fictional neighbourhoods differ in how many establishments they hold,
   in how often residents file 311 complaints (the *reporting propensity*, from 0.45 to 2.6
   times the city average), in their street sanitation conditions, and in a small true
   difference in violation risk (older building stock). Each establishment sits in a census
   tract whose majority group (``area_majority_group``) is drawn from its neighbourhood's mix.
2. Establishments. A facility type (skewed: most are restaurants, written inconsistently as
   clerks typed them), the city's risk category, licence age, tobacco and liquor licences, and
   a hidden *hygiene* level (a standard normal) that drives violations and drifts a little over
   time.
3. Inspections, 1 July 2022 to 31 December 2024, on working days: routine canvass inspections
   every 6, 12 or 24 months by risk category; complaint inspections, triggered by 311
   complaints; re-inspections 2 to 4 weeks after a failed inspection; a licence inspection when
   a new establishment opens.
4. What the inspector finds. A critical violation (the label) has a probability that rises with
   poor hygiene, risk category, heat (the mean high temperature of the three previous days),
   time since the last inspection and the neighbourhood's small true difference; it falls on
   a re-inspection. Serious (non-critical) violations follow the same hygiene.
5. Features known *before* the inspection: the establishment's past critical and serious
   violations and days since its last inspection (from the simulated history itself), 311
   complaints about it in the past year and 311 sanitation complaints within 500 m in the past
   90 days. Complaint counts grow with poor hygiene but are multiplied by the neighbourhood's
   reporting propensity: the same kitchen draws four to five times more complaints in Old Town
   than in Southfield. That is the disparity built into this blueprint.
6. Messiness: facility types in several spellings and cases, stray spaces, about 2 % of risk
   categories blank, licence ages missing for about 3 %, temperatures missing on some days
   (a station outage), and inspectors' free-text notes (which name staff, and are written
   after the inspection: never a model feature).

``upcoming.csv`` holds the canvass inspections due in January 2025, without a label: the
pilot scores them and returns the ranked list to the city.

Deterministic: the same ``--seed`` gives byte-identical files.

    python3 generate.py --out data [--seed 0]
"""

from __future__ import annotations

import argparse
import hashlib
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_SEED = 0
ESTABLISHMENTS = 4_600
START, END = date(2022, 7, 1), date(2024, 12, 31)
UPCOMING_START, UPCOMING_END = date(2025, 1, 2), date(2025, 1, 31)

# name, share of establishments, 311 reporting propensity, street sanitation level,
# true violation-risk offset (logit), majority-group mix of its census tracts, ZIP codes
NEIGHBOURHOODS = (
    (
        "Old Town",
        0.19,
        3.5,
        1.0,
        0.05,
        {"White": 0.55, "No majority": 0.35, "Asian": 0.10},
        ("60601", "60602"),
    ),
    ("Northbank", 0.14, 3.0, 0.7, 0.00, {"White": 0.80, "No majority": 0.20}, ("60611", "60613")),
    (
        "Westlake",
        0.11,
        2.0,
        0.7,
        0.00,
        {"White": 0.60, "No majority": 0.25, "Asian": 0.15},
        ("60618",),
    ),
    (
        "Riverside",
        0.13,
        1.0,
        1.0,
        0.05,
        {"No majority": 0.50, "White": 0.25, "Hispanic or Latino": 0.25},
        ("60622", "60623"),
    ),
    (
        "Harbor Point",
        0.12,
        0.45,
        1.4,
        0.10,
        {"Hispanic or Latino": 0.75, "No majority": 0.25},
        ("60632",),
    ),
    (
        "Millbrook",
        0.10,
        0.4,
        1.2,
        0.05,
        {"Asian": 0.45, "Hispanic or Latino": 0.30, "No majority": 0.25},
        ("60616", "60609"),
    ),
    ("Eastgate", 0.11, 0.35, 1.5, 0.10, {"Black": 0.85, "No majority": 0.15}, ("60649",)),
    (
        "Southfield",
        0.10,
        0.3,
        1.6,
        0.10,
        {"Black": 0.80, "Hispanic or Latino": 0.10, "No majority": 0.10},
        ("60619", "60620"),
    ),
)

# facility type, share, how busy it is (complaints scale with it), risk-category weights
# (Risk 1 high, Risk 2 medium, Risk 3 low), spellings clerks used
FACILITIES = (
    (
        "Restaurant",
        0.56,
        1.0,
        (0.80, 0.17, 0.03),
        ("Restaurant", "RESTAURANT", "restaurant", "Restaurant "),
    ),
    (
        "Grocery Store",
        0.15,
        0.8,
        (0.35, 0.45, 0.20),
        ("Grocery Store", "GROCERY STORE", "grocery store"),
    ),
    ("Coffee Shop", 0.06, 1.2, (0.20, 0.60, 0.20), ("Coffee Shop", "Coffee shop", "COFFEE SHOP")),
    ("School", 0.05, 0.3, (0.85, 0.15, 0.00), ("School", "SCHOOL", "Schools")),
    ("Bakery", 0.04, 0.9, (0.40, 0.50, 0.10), ("Bakery", "BAKERY")),
    (
        "Daycare",
        0.04,
        0.3,
        (0.70, 0.30, 0.00),
        ("Daycare (2 - 6 Years)", "Daycare Above and Under 2 Years", "DAYCARE"),
    ),
    ("Tavern", 0.04, 0.7, (0.10, 0.40, 0.50), ("Tavern", "TAVERN", "Bar/Tavern")),
    (
        "Mobile Food",
        0.03,
        0.6,
        (0.30, 0.60, 0.10),
        ("Mobile Food Dispenser", "MOBILE FOOD", "mobile food truck"),
    ),
    ("Liquor Store", 0.02, 0.4, (0.00, 0.20, 0.80), ("Liquor", "LIQUOR STORE")),
    (
        "Other",
        0.01,
        0.5,
        (0.30, 0.40, 0.30),
        ("Catering", "Banquet Hall", "Shared Kitchen", "Hospital"),
    ),
)
RISK_NAMES = ("Risk 1 (High)", "Risk 2 (Medium)", "Risk 3 (Low)")
RISK_EFFECT = (0.35, 0.0, -0.45)
CANVASS_MONTHS = (6, 12, 24)

NAME_FIRST = (
    "Golden",
    "Lucky",
    "Blue",
    "Happy",
    "Little",
    "Royal",
    "Fresh",
    "Sunny",
    "Green",
    "Corner",
    "Grand",
    "Old",
    "Red",
    "Silver",
    "Main Street",
    "Lakeside",
)
NAME_SECOND = (
    "Dragon",
    "Taqueria",
    "Grill",
    "Kitchen",
    "Bistro",
    "Diner",
    "Cafe",
    "Market",
    "Deli",
    "Bakery",
    "Pizza",
    "Noodle House",
    "Tavern",
    "Foods",
    "Express",
    "Garden",
)
FIRST_NAMES = (
    "Maria",
    "James",
    "Wei",
    "Aisha",
    "Jose",
    "Linda",
    "Mohammed",
    "Olga",
    "Tran",
    "Keisha",
    "Robert",
    "Ana",
    "Daniel",
    "Fatima",
    "Kevin",
    "Rosa",
    "Samuel",
    "Mei",
)
LAST_NAMES = (
    "Garcia",
    "Johnson",
    "Chen",
    "Williams",
    "Nguyen",
    "Kowalski",
    "Hernandez",
    "Brown",
    "Okafor",
    "Patel",
    "Lopez",
    "Kim",
    "Davis",
    "Rossi",
    "Haddad",
    "Jackson",
)
STREETS = (
    "Main St",
    "Lake Ave",
    "Halsted St",
    "Ashland Ave",
    "Cottage Grove Ave",
    "Pulaski Rd",
    "Archer Ave",
    "Western Ave",
    "Clark St",
    "Kedzie Ave",
    "Cermak Rd",
    "King Dr",
)
CRITICAL_NOTES = (
    "Cold holding above 41F in walk-in cooler; items discarded.",
    "No hot water at hand sink in prep area.",
    "Evidence of rodent droppings in dry storage; PIC {person} informed.",
    "Raw chicken stored above ready-to-eat food.",
    "No certified food manager on site; PIC {person} instructed.",
    "Hot holding below 135F; reheated on site.",
    "Cockroach activity observed under prep line.",
)
OTHER_NOTES = (
    "",
    "",
    "",
    "Floors behind cooking line need cleaning.",
    "Light shield missing in prep area.",
    "Wiping cloths not stored in sanitizer. Spoke with {person}.",
    "Employee hair restraints needed.",
    "Thermometers missing in coolers.",
)


def _working_days(start: date, end: date) -> pd.DatetimeIndex:
    return pd.bdate_range(start, end)


def _weather(days: pd.DatetimeIndex, rng: np.random.Generator) -> pd.Series:
    """Mean high temperature (deg C) of the three previous days, blank on outage days."""
    calendar = pd.date_range(days.min() - pd.Timedelta(days=3), days.max())
    doy = calendar.day_of_year.to_numpy()
    daily = (
        12.0 + 15.0 * np.sin(2 * np.pi * (doy - 110) / 365.25) + rng.normal(0, 4.0, len(calendar))
    )
    three_day = pd.Series(daily, index=calendar).rolling(3).mean().shift(1)
    values = three_day.reindex(days).round(1)
    outage = rng.random(len(days)) < 0.02
    return values.mask(outage)


def _address(rng: np.random.Generator) -> str:
    number, side = rng.integers(100, 9_999), "NSEW"[rng.integers(0, 4)]
    return f"{number} {side} {rng.choice(STREETS)}"


def _establishments(rng: np.random.Generator) -> pd.DataFrame:
    n = ESTABLISHMENTS
    shares = np.array([h[1] for h in NEIGHBOURHOODS])
    area = rng.choice(len(NEIGHBOURHOODS), n, p=shares / shares.sum())
    fshares = np.array([f[1] for f in FACILITIES])
    facility = rng.choice(len(FACILITIES), n, p=fshares / fshares.sum())
    risk = np.array([rng.choice(3, p=FACILITIES[f][3]) for f in facility])
    majority = np.array(
        [
            rng.choice(list(NEIGHBOURHOODS[a][5]), p=list(NEIGHBOURHOODS[a][5].values()))
            for a in area
        ]
    )
    spelling = np.array([rng.choice(FACILITIES[f][4]) for f in facility])
    zips = np.array([rng.choice(NEIGHBOURHOODS[a][6]) for a in area])
    # licence issued up to 20 years before the start; a tenth open during the period
    opened = pd.Timestamp(START) - pd.to_timedelta(rng.integers(30, 20 * 365, n), unit="D")
    new = rng.random(n) < 0.10
    opened = opened.where(
        ~new, pd.Timestamp(START) + pd.to_timedelta(rng.integers(0, 800, n), unit="D")
    )
    names = [
        f"{rng.choice(NAME_FIRST)} {rng.choice(NAME_SECOND)}"
        + (f" #{i % 7 + 2}" if i % 23 == 0 else "")
        for i in range(n)
    ]
    owners = [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(n)]
    phones = [f"(312) 555-{rng.integers(0, 10_000):04d}" for _ in range(n)]
    addresses = [_address(rng) for _ in range(n)]
    return pd.DataFrame(
        {
            "license_number": 1_000_000 + rng.permutation(n * 3)[:n],
            "dba_name": names,
            "owner_name": owners,
            "owner_phone": phones,
            "address": addresses,
            "zip_code": zips,
            "area": area,
            "neighbourhood": [NEIGHBOURHOODS[a][0] for a in area],
            "area_majority_group": majority,
            "facility": facility,
            "facility_type": spelling,
            "risk": risk,
            "opened": opened,
            "hygiene": rng.normal(0.0, 1.0, n),
            "block_grime": np.array([NEIGHBOURHOODS[a][3] for a in area])
            * rng.gamma(3.0, 1 / 3.0, n),
            "tobacco": (rng.random(n) < np.where(np.isin(facility, [1, 8]), 0.6, 0.05)).astype(int),
            "liquor": (rng.random(n) < np.where(np.isin(facility, [0, 6, 8]), 0.35, 0.03)).astype(
                int
            ),
        }
    )


def _complaints_a_year(row: tuple, hygiene: float) -> float:
    """Expected 311 complaints a year about an establishment: hygiene x reporting x traffic."""
    reporting = NEIGHBOURHOODS[row.area][2]
    traffic = FACILITIES[row.facility][2]
    return float(0.3 * reporting * traffic * np.exp(1.1 * hygiene))


def _inspections(est: pd.DataFrame, days: pd.DatetimeIndex, rng: np.random.Generator) -> list[dict]:
    """Simulate each establishment's inspection history on working days, in time order."""
    records: list[dict] = []
    last = days[-1]
    for row in est.itertuples(index=False):
        first = max(pd.Timestamp(START), row.opened)
        events: list[tuple[pd.Timestamp, str]] = []
        if row.opened >= pd.Timestamp(START):
            events.append((row.opened, "License"))
            t = row.opened + pd.DateOffset(months=CANVASS_MONTHS[row.risk])
        else:
            t = first + pd.to_timedelta(rng.integers(0, 30 * CANVASS_MONTHS[row.risk]), unit="D")
        while t <= last:
            events.append((t, "Canvass"))
            t = t + pd.to_timedelta(
                int(30.4 * CANVASS_MONTHS[row.risk] * rng.uniform(0.8, 1.3)), unit="D"
            )
        hygiene = row.hygiene
        # complaint inspections: a Poisson process whose rate follows complaints
        rate = _complaints_a_year(row, hygiene)
        n_complaint = rng.poisson(0.35 * rate * (last - first).days / 365.0)
        for offset in rng.integers(0, max(1, (last - first).days), n_complaint):
            events.append((first + pd.Timedelta(days=int(offset)), "Complaint"))
        events.sort(key=lambda e: (e[0], e[1]))
        past_critical = past_serious = 0
        previous: pd.Timestamp | None = None
        queue = list(events)
        while queue:
            when, kind = queue.pop(0)
            when = _next_working_day(when, days)
            if when is None:
                continue
            hygiene = 0.85 * hygiene + 0.527 * rng.normal()  # drifts, keeps unit variance
            since = (when - previous).days if previous is not None else np.nan
            complaints = rng.poisson(_complaints_a_year(row, hygiene))
            sanitation = rng.poisson(4.0 * NEIGHBOURHOODS[row.area][2] * row.block_grime)
            reinspection = kind.endswith("Re-Inspection")
            logit = (
                -2.35
                + 1.3 * hygiene
                + RISK_EFFECT[row.risk]
                + NEIGHBOURHOODS[row.area][4]
                + 0.4 * np.log(row.block_grime)
                + (-0.7 if reinspection else 0.0)
                + (0.2 if kind == "Complaint" else 0.0)
                + (0.35 if kind == "License" else 0.0)
                + 0.25 * np.log1p((since if since == since else 365) / 365.0)
                + 0.035 * (_temperature_at(when) - 15.0)
            )
            critical = rng.random() < 1 / (1 + np.exp(-logit))
            serious = rng.random() < 1 / (1 + np.exp(-(-1.4 + 0.8 * hygiene)))
            records.append(
                {
                    "establishment": row,
                    "inspection_date": when,
                    "inspection_type": kind,
                    "past_critical_violations": past_critical,
                    "past_serious_violations": past_serious,
                    "days_since_last_inspection": since,
                    "complaints_past_year": complaints,
                    "nearby_sanitation_complaints_90d": sanitation,
                    "critical": critical,
                    "serious": serious,
                }
            )
            past_critical += int(critical)
            past_serious += int(serious)
            previous = when
            if critical and not reinspection and when + pd.Timedelta(days=14) <= last:
                again = when + pd.Timedelta(days=int(rng.integers(14, 29)))
                base = "Complaint" if kind == "Complaint" else "Canvass"
                queue.append((again, f"{base} Re-Inspection"))
                queue.sort(key=lambda e: (e[0], e[1]))
                hygiene -= 0.3  # a failed inspection prompts a clean-up
    return records


_TEMPERATURE: dict[pd.Timestamp, float] = {}


def _temperature_at(when: pd.Timestamp) -> float:
    """The three-day mean high on that day; 15 deg C on outage days."""
    value = _TEMPERATURE.get(when, 15.0)
    return 15.0 if value != value else value


def _next_working_day(when: pd.Timestamp, days: pd.DatetimeIndex) -> pd.Timestamp | None:
    position = days.searchsorted(when)
    return None if position >= len(days) else days[position]


def _note(critical: bool, rng: np.random.Generator) -> str:
    person = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    pool = CRITICAL_NOTES if critical else OTHER_NOTES
    return str(rng.choice(pool)).format(person=person)


def _frame(records: list[dict], weather: pd.Series, rng: np.random.Generator) -> pd.DataFrame:
    est = pd.DataFrame([r["establishment"]._asdict() for r in records])
    when = pd.DatetimeIndex([r["inspection_date"] for r in records])
    licence_days = (when - pd.DatetimeIndex(est["opened"])).days.to_numpy().astype(float)
    licence_days[rng.random(len(records)) < 0.03] = np.nan
    risk = np.array([RISK_NAMES[r] for r in est["risk"]], dtype=object)
    risk[rng.random(len(records)) < 0.02] = ""
    frame = pd.DataFrame(
        {
            "license_number": est["license_number"],
            "dba_name": est["dba_name"],
            "owner_name": est["owner_name"],
            "owner_phone": est["owner_phone"],
            "address": est["address"],
            "zip_code": est["zip_code"],
            "neighbourhood": est["neighbourhood"],
            "area_majority_group": est["area_majority_group"],
            "facility_type": est["facility_type"],
            "risk_category": risk,
            "inspection_date": when.strftime("%Y-%m-%d"),
            "inspection_type": [r["inspection_type"] for r in records],
            "license_age_days": licence_days,
            "has_tobacco_license": est["tobacco"],
            "has_liquor_license": est["liquor"],
            "past_critical_violations": [r["past_critical_violations"] for r in records],
            "past_serious_violations": [r["past_serious_violations"] for r in records],
            "days_since_last_inspection": [r["days_since_last_inspection"] for r in records],
            "complaints_past_year": [r["complaints_past_year"] for r in records],
            "nearby_sanitation_complaints_90d": [
                r["nearby_sanitation_complaints_90d"] for r in records
            ],
            "temp_3day_high_c": weather.reindex(when).to_numpy(),
        }
    )
    return frame


def generate(seed: int = DEFAULT_SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The inspections (labelled) and January 2025's due canvass inspections (no label)."""
    rng = np.random.default_rng(seed)
    days = _working_days(START, UPCOMING_END)
    weather = _weather(days, rng)
    _TEMPERATURE.clear()
    _TEMPERATURE.update(weather.to_dict())
    est = _establishments(rng)
    history_days = _working_days(START, END)
    records = _inspections(est, history_days, rng)
    records.sort(key=lambda r: (r["inspection_date"], int(r["establishment"].license_number)))
    frame = _frame(records, weather, rng)
    frame.insert(0, "inspection_id", np.arange(2_400_001, 2_400_001 + len(frame)))
    # a stray space here and there, as typed
    stray = rng.random(len(frame)) < 0.01
    frame.loc[stray, "inspection_type"] = frame.loc[stray, "inspection_type"] + " "
    frame["critical_violation"] = np.where([r["critical"] for r in records], "yes", "no")
    frame["inspector_notes"] = [_note(r["critical"], rng) for r in records]

    # January 2025: the next canvass inspection of establishments last seen 5+ months ago
    latest = frame.groupby("license_number").tail(1)
    due = latest[pd.to_datetime(latest["inspection_date"]) <= pd.Timestamp("2024-08-01")]
    due = due.sample(n=min(900, len(due)), random_state=np.random.RandomState(seed)).sort_values(
        "license_number"
    )
    jan = _working_days(UPCOMING_START, UPCOMING_END)
    planned = pd.DatetimeIndex(jan[rng.integers(0, len(jan), len(due))])
    upcoming = due.drop(columns=["critical_violation", "inspector_notes", "inspection_id"]).copy()
    upcoming["days_since_last_inspection"] = (
        planned - pd.DatetimeIndex(pd.to_datetime(due["inspection_date"]))
    ).days.to_numpy()
    upcoming["past_critical_violations"] = (
        due["past_critical_violations"].to_numpy() + (due["critical_violation"] == "yes").to_numpy()
    )
    upcoming["past_serious_violations"] = due["past_serious_violations"].to_numpy()
    upcoming["license_age_days"] = (
        due["license_age_days"].to_numpy() + upcoming["days_since_last_inspection"].to_numpy()
    )
    upcoming["inspection_date"] = planned.strftime("%Y-%m-%d")
    upcoming["inspection_type"] = "Canvass"
    upcoming["complaints_past_year"] = rng.poisson(
        np.maximum(due["complaints_past_year"].to_numpy(), 0.2)
    )
    upcoming["temp_3day_high_c"] = weather.reindex(planned).to_numpy()
    upcoming = upcoming.sort_values(["inspection_date", "license_number"]).reset_index(drop=True)
    upcoming.insert(0, "inspection_id", np.arange(2_500_001, 2_500_001 + len(upcoming)))
    return frame, upcoming


def _write(frame: pd.DataFrame, path: Path) -> str:
    text = frame.to_csv(index=False, lineterminator="\n", na_rep="", float_format="%.10g")
    path.write_bytes(text.encode("utf-8"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write the CSV files to")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 0)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    inspections, upcoming = generate(args.seed)
    sums = [
        f"{_write(inspections, args.out / 'inspections.csv')}  inspections.csv",
        f"{_write(upcoming, args.out / 'upcoming.csv')}  upcoming.csv",
    ]
    (args.out / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")
    print(f"{len(inspections):,} inspections, {len(upcoming):,} upcoming -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
