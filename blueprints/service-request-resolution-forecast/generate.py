"""Synthetic 311 service requests of Example City, for forecasting the days each takes to resolve.

Every row is a request a resident (or a city worker) made to the 311 line, website or app about
a street, sanitation or public-space problem. Nothing here is real: street names, requester
names, phone numbers (fictional 555 area code) and e-mail addresses (reserved ``example.*``
domains) are assembled from small built-in word lists.

The data-generating process, in order (README.md explains it in plain words):

1. Places. Twelve neighbourhoods, each in one of five crew ``service_zone`` values, each split
   into eight census block groups. A block group's median household income follows its
   neighbourhood's level; ``income_quintile`` (Q1 = lowest, Q5 = highest) ranks the 96 block
   groups citywide. Four neighbourhoods are *less connected*: far from a public-works depot,
   with low home broadband, so residents there report more by phone, attach fewer photos and
   describe locations in words rather than with a map pin.
2. Requests. About 40 a day from 2023-01-01 to 2024-12-31 (more in spring and summer, fewer at
   weekends), each in a neighbourhood and block group; request types are skewed (missed
   collections and potholes dominate; dumping is more frequent in low-income block groups,
   tree trimming in high-income ones). Channel, priority, photo, location detail and staff
   reports follow from the place and the type. ``same_type_requests_14d`` counts the requests of
   the same type in the same zone over the 14 days before (the queue a crew faces).
3. Resolution time, observed part: a log-normal time set by the type, priority, season,
   weekday, location detail, photo, staff report, zone and the queue.
4. Resolution time, hidden part (the disparity mechanism): some crew jobs are deferred to an
   outside contractor's queue, which adds two weeks on average. Deferral is far more frequent
   in low-income block groups and in less-connected neighbourhoods, and from January 2024 it
   grows month by month there, after crews were moved to the central zone. No column records
   it, so a model trained on earlier requests errs more, and forecasts too low, for these
   places in the later, evaluated months.
5. Export. The city extracted the data on 2025-01-06: requests closed by then are in
   ``service_requests.csv`` with ``closed_date`` and ``days_to_resolve``; those still open are
   in ``open_requests.csv`` without them (the current cases the pilot forecasts).
6. Messiness: blank priorities, location details and quintiles (addresses that did not
   geocode), stray spaces around request types and channels, free-text descriptions in English
   and Spanish that sometimes carry a name, phone number or address.

Deterministic: the same ``--seed`` gives byte-identical files (with the same numpy release).

    python3 generate.py --out data            # default seed 0
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_SEED = 0
START = pd.Timestamp("2023-01-01")
END = pd.Timestamp("2024-12-31")  # last day requests were made
EXPORT = pd.Timestamp("2025-01-06 07:00")  # when the city extracted the data
DRIFT_START = pd.Timestamp("2024-01-01")  # crews moved to the central zone from here on
REQUESTS_PER_DAY = 40.0

# name, service zone, share of requests, income level (log-scale offset), less connected
NEIGHBOURHOODS = (
    ("Harbour View", "Central", 0.07, 0.55, False),
    ("Old Town", "Central", 0.08, 0.15, False),
    ("Lakeshore", "North", 0.09, 0.45, False),
    ("Northfield", "North", 0.08, 0.25, False),
    ("Cedar Park", "West", 0.09, 0.35, False),
    ("Westbrook", "West", 0.08, 0.00, False),
    ("Southgate", "South", 0.09, -0.10, False),
    ("Brickyard", "South", 0.08, -0.40, True),
    ("Airport Road", "South", 0.07, -0.25, True),
    ("Eastgate", "East", 0.10, -0.35, False),
    ("Riverside Flats", "East", 0.09, -0.55, True),
    ("Mill Hollow", "East", 0.08, -0.45, True),
)
BLOCK_GROUPS_PER_NEIGHBOURHOOD = 8

# request type, share, median days, deferrable to a contractor, weight of low-income tilt
REQUEST_TYPES = (
    ("Missed collection", 0.17, 1.6, False, 0.0),
    ("Pothole", 0.14, 6.0, True, 0.0),
    ("Illegal dumping", 0.11, 4.5, True, 0.8),
    ("Graffiti", 0.08, 4.0, True, 0.2),
    ("Streetlight out", 0.09, 8.0, True, 0.0),
    ("Noise complaint", 0.06, 1.5, False, 0.3),
    ("Abandoned vehicle", 0.06, 9.0, True, 0.5),
    ("Blocked drain", 0.05, 5.0, True, 0.0),
    ("Tree trimming", 0.05, 24.0, True, -0.8),
    ("Sidewalk repair", 0.04, 30.0, True, -0.3),
    ("Damaged sign", 0.04, 7.0, True, 0.0),
    ("Water leak", 0.03, 1.2, False, 0.0),
    ("Rodents", 0.03, 10.0, False, 0.4),
    ("Other", 0.05, 6.0, False, 0.0),
)
CHANNELS = ("phone", "web", "mobile_app", "email", "walk_in", "social_media")

STREETS = (
    "Oak Ave",
    "Maple St",
    "Cedar Pl",
    "Market Blvd",
    "River Rd",
    "Mill St",
    "Harbour Way",
    "Lake Dr",
    "Elm St",
    "Pine Ct",
    "Station Rd",
    "Church St",
    "Union Ave",
    "Bridge St",
    "Airport Rd",
    "Brick Ln",
    "Park Ave",
    "School St",
    "Hill Rd",
    "Canal St",
)
FIRST_NAMES = (
    "Maria",
    "James",
    "Aisha",
    "Wei",
    "Jose",
    "Linda",
    "Ahmed",
    "Rosa",
    "Kevin",
    "Thi",
    "Carlos",
    "Grace",
    "Omar",
    "Ana",
    "David",
    "Fatima",
    "Luis",
    "Sarah",
    "Juan",
    "Mei",
)
LAST_NAMES = (
    "Garcia",
    "Smith",
    "Nguyen",
    "Johnson",
    "Lopez",
    "Brown",
    "Hernandez",
    "Lee",
    "Khan",
    "Martinez",
    "Davis",
    "Okafor",
    "Rodriguez",
    "Wilson",
    "Chen",
    "Perez",
    "Taylor",
    "Ali",
)
DESCRIPTIONS_EN = {
    "Missed collection": ("trash not picked up", "recycling missed again", "bins still full"),
    "Pothole": ("large pothole in lane", "pothole near crosswalk", "deep hole damaged my tire"),
    "Illegal dumping": ("mattress dumped on sidewalk", "pile of tires in alley", "bags dumped"),
    "Graffiti": ("graffiti on wall", "tagging on bus shelter", "graffiti on fence"),
    "Streetlight out": ("streetlight out", "light flickering all night", "whole block dark"),
    "Noise complaint": ("loud music late", "construction noise at 6am", "party every night"),
    "Abandoned vehicle": ("car not moved in weeks", "van with flat tires", "no plates on car"),
    "Blocked drain": ("drain blocked, street floods", "storm drain full of leaves", "flooding"),
    "Tree trimming": ("branches over sidewalk", "tree blocking stop sign", "dead limb hanging"),
    "Sidewalk repair": ("broken sidewalk trip hazard", "raised slab", "sidewalk cracked"),
    "Damaged sign": ("stop sign knocked down", "street sign missing", "sign bent"),
    "Water leak": ("water running in street", "hydrant leaking", "water main leak"),
    "Rodents": ("rats in alley", "rats near school", "rodents in vacant lot"),
    "Other": ("see attached", "please call me", "not sure who to ask"),
}
DESCRIPTIONS_ES = {
    "Missed collection": ("no recogieron la basura",),
    "Pothole": ("bache grande en la calle",),
    "Illegal dumping": ("tiraron basura en la acera",),
    "Graffiti": ("grafiti en la pared",),
    "Streetlight out": ("la luz de la calle no funciona",),
    "Noise complaint": ("mucho ruido en la noche",),
    "Abandoned vehicle": ("carro abandonado hace semanas",),
    "Blocked drain": ("la alcantarilla esta tapada",),
    "Tree trimming": ("ramas sobre la acera",),
    "Sidewalk repair": ("acera rota, peligro",),
    "Damaged sign": ("senal de alto caida",),
    "Water leak": ("fuga de agua en la calle",),
    "Rodents": ("ratas en el callejon",),
    "Other": ("por favor llamenme",),
}


def _places(rng: np.random.Generator) -> pd.DataFrame:
    """The 96 block groups: neighbourhood, zone, connectivity, income and income quintile."""
    rows = []
    for index, (name, zone, _share, level, remote) in enumerate(NEIGHBOURHOODS):
        incomes = np.exp(11.0 + level + rng.normal(0.0, 0.28, BLOCK_GROUPS_PER_NEIGHBOURHOOD))
        for number, income in enumerate(incomes):
            rows.append(
                {
                    "neighbourhood": name,
                    "service_zone": zone,
                    "less_connected": remote,
                    "block_group": f"BG-{index + 1:02d}{number + 1:02d}",
                    "median_income": income,
                }
            )
    places = pd.DataFrame(rows)
    ranks = places["median_income"].rank(method="first").to_numpy() - 1
    places["quintile"] = (ranks * 5 // len(places)).astype(int) + 1
    return places


def _created(rng: np.random.Generator) -> pd.Series:
    """Request times: seasonal daily volumes, fewer at weekends, mostly in working hours."""
    days = pd.date_range(START, END, freq="D")
    season = 1.0 + 0.25 * np.sin(2 * np.pi * (days.day_of_year.to_numpy() - 80) / 365.25)
    weekend = np.where(days.day_of_week.to_numpy() >= 5, 0.55, 1.0)
    counts = rng.poisson(REQUESTS_PER_DAY * season * weekend)
    day = np.repeat(days.to_numpy(), counts)
    hour = np.clip(rng.normal(12.5, 3.8, len(day)), 0, 23.98)
    minutes = np.floor(hour * 60).astype("int64")
    return pd.Series(pd.to_datetime(day) + pd.to_timedelta(minutes, unit="min"))


def _pick(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One index per row of a (rows, options) weight matrix."""
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    draws = rng.random(len(weights))[:, None]
    return np.minimum((draws > cumulative).sum(axis=1), weights.shape[1] - 1)


def _requests(rng: np.random.Generator, places: pd.DataFrame) -> pd.DataFrame:
    created = _created(rng)
    n = len(created)
    shares = np.array([row[2] for row in NEIGHBOURHOODS])
    hood = rng.choice(len(NEIGHBOURHOODS), size=n, p=shares / shares.sum())
    place_index = hood * BLOCK_GROUPS_PER_NEIGHBOURHOOD + rng.integers(
        0, BLOCK_GROUPS_PER_NEIGHBOURHOOD, n
    )
    place = places.iloc[place_index].reset_index(drop=True)
    quintile = place["quintile"].to_numpy()
    remote = place["less_connected"].to_numpy()
    low = (3 - quintile) / 2.0  # +1 for Q1 ... -1 for Q5

    base = np.array([t[1] for t in REQUEST_TYPES])
    tilt = np.array([t[4] for t in REQUEST_TYPES])
    type_index = _pick(rng, base[None, :] * np.exp(np.outer(low, tilt)))
    rtype = np.array([t[0] for t in REQUEST_TYPES], dtype=object)[type_index]

    # Channel: less-connected places and low-income ones report by phone more, by app less.
    channel_weights = np.tile(np.array([0.38, 0.22, 0.26, 0.06, 0.03, 0.05]), (n, 1))
    channel_weights[:, 0] *= np.where(remote, 1.9, 1.0) * (1 + 0.2 * low)
    channel_weights[:, 2] *= np.where(remote, 0.35, 1.0) * (1 - 0.25 * low)
    channel_weights[:, 4] *= np.where(remote, 1.8, 1.0)
    channel = np.array(CHANNELS, dtype=object)[_pick(rng, channel_weights)]
    staff = rng.random(n) < np.where(place["service_zone"].to_numpy() == "Central", 0.16, 0.07)
    channel = np.where(staff, "mobile_app", channel)

    app = channel == "mobile_app"
    photo = rng.random(n) < np.where(app, 0.72, np.where(channel == "web", 0.25, 0.03))
    photo |= staff & (rng.random(n) < 0.8)
    detail_weights = np.column_stack(
        [
            np.where(app | staff, 0.85, 0.05),  # gps_pin
            np.where(app, 0.10, 0.55),  # street_address
            np.where(app, 0.03, 0.22),  # intersection
            np.where(app, 0.02, 0.18) * np.where(remote, 2.2, 1.0),  # description_only
        ]
    )
    details = np.array(["gps_pin", "street_address", "intersection", "description_only"])
    location_detail = details[_pick(rng, detail_weights)].astype(object)

    urgent_share = np.select(
        [np.isin(rtype, ["Water leak", "Blocked drain"]), rtype == "Damaged sign"],
        [0.45, 0.25],
        0.08,
    )
    u = rng.random(n)
    priority = np.where(
        u < urgent_share * 0.25, "emergency", np.where(u < urgent_share, "urgent", "routine")
    )
    priority = priority.astype(object)

    frame = pd.DataFrame(
        {
            "created": created,
            "request_type": rtype,
            "channel": channel,
            "priority": priority,
            "location_detail": location_detail,
            "has_photo": photo.astype(int),
            "reported_by_staff": staff.astype(int),
            "service_zone": place["service_zone"].to_numpy(),
            "neighbourhood": place["neighbourhood"].to_numpy(),
            "block_group": place["block_group"].to_numpy(),
            "income_quintile": np.char.add("Q", quintile.astype(str)).astype(object),
            "_remote": remote,
            "_low": low,
            "_quintile": quintile,
            "_type_index": type_index,
        }
    )
    return frame


def _queue(frame: pd.DataFrame) -> np.ndarray:
    """Requests of the same type in the same zone over the 14 days before each request."""
    queue = np.zeros(len(frame), dtype=int)
    stamps = frame["created"].to_numpy().astype("datetime64[m]").astype("int64")
    window = 14 * 24 * 60
    for _, index in frame.groupby(["request_type", "service_zone"], sort=True).indices.items():
        times = stamps[index]
        queue[index] = np.arange(len(index)) - np.searchsorted(times, times - window, side="left")
    return queue


def _resolution_days(rng: np.random.Generator, frame: pd.DataFrame) -> np.ndarray:
    """Observed drivers, then the hidden contractor deferral (the disparity mechanism)."""
    n = len(frame)
    type_index = frame["_type_index"].to_numpy()
    median = np.array([t[2] for t in REQUEST_TYPES])[type_index]
    deferrable = np.array([t[3] for t in REQUEST_TYPES])[type_index]
    created = frame["created"]
    month = created.dt.month.to_numpy()
    weekday = created.dt.day_of_week.to_numpy()
    rtype = frame["request_type"].to_numpy()

    log_days = np.log(median)
    log_days += (
        frame["priority"].map({"routine": 0.0, "urgent": -0.7, "emergency": -1.8}).to_numpy()
    )
    winter = np.isin(month, [12, 1, 2, 3])
    log_days += np.where(winter & (rtype == "Pothole"), 0.35, 0.0)
    log_days += np.where(np.isin(month, [6, 7, 8]) & (rtype == "Tree trimming"), 0.25, 0.0)
    log_days += np.where(weekday >= 4, 0.15, 0.0)
    log_days += (
        frame["location_detail"]
        .map({"gps_pin": -0.1, "street_address": 0.0, "intersection": 0.1, "description_only": 0.4})
        .to_numpy()
    )
    log_days += np.where(frame["has_photo"].to_numpy() == 1, -0.1, 0.0)
    log_days += np.where(frame["reported_by_staff"].to_numpy() == 1, -0.3, 0.0)
    log_days += (
        frame["service_zone"]
        .map({"Central": -0.15, "North": 0.0, "West": 0.0, "South": 0.05, "East": 0.1})
        .to_numpy()
    )
    log_days += 0.006 * np.minimum(frame["same_type_requests_14d"].to_numpy(), 120)
    days = np.exp(log_days + rng.normal(0.0, 0.4, n))

    # Hidden: deferral to an outside contractor's queue. No column records it.
    quintile = frame["_quintile"].to_numpy()
    remote = frame["_remote"].to_numpy()
    p_defer = np.array([0.0, 0.22, 0.12, 0.05, 0.03, 0.02])[quintile] + np.where(remote, 0.10, 0.0)
    exposed = (quintile <= 2) | remote
    months_since = np.clip((created - DRIFT_START).dt.days.to_numpy() / 30.44, 0.0, None)
    p_defer = np.where(exposed, p_defer * (1.0 + 0.12 * months_since), p_defer)
    p_defer = np.where(deferrable & (frame["priority"].to_numpy() != "emergency"), p_defer, 0.0)
    deferred = rng.random(n) < np.minimum(p_defer, 0.85)
    days += np.where(deferred, rng.gamma(2.0, 12.0, n), 0.0)
    return np.maximum(days, 0.05)


def _description(rng: np.random.Generator, frame: pd.DataFrame) -> np.ndarray:
    """Short free text, often blank; Spanish in some requests; some carry personal data."""
    n = len(frame)
    rtype = frame["request_type"].to_numpy()
    spanish = rng.random(n) < np.where(frame["_low"].to_numpy() > 0, 0.16, 0.05)
    blank = rng.random(n) < 0.45
    pick = rng.integers(0, 3, n)
    extra = rng.random(n)
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    phone = rng.integers(0, 10_000, n)
    texts = []
    for i in range(n):
        if blank[i]:
            texts.append("")
            continue
        options = DESCRIPTIONS_ES[rtype[i]] if spanish[i] else DESCRIPTIONS_EN[rtype[i]]
        text = options[pick[i] % len(options)]
        if extra[i] < 0.05:
            text += f" - call {FIRST_NAMES[first[i]]} 555-{200 + phone[i] % 700:03d}-{phone[i]:04d}"
        elif extra[i] < 0.08:
            text += f" ({FIRST_NAMES[first[i]]} {LAST_NAMES[last[i]]})"
        elif extra[i] < 0.12:
            text = text.upper()
        texts.append(text)
    return np.array(texts, dtype=object)


def _people(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Street addresses and, for the third of requesters who give them, contact details."""
    number = rng.integers(1, 4200, n)
    street = rng.integers(0, len(STREETS), n)
    address = np.array(
        [f"{a} {STREETS[s]}" for a, s in zip(number, street, strict=True)], dtype=object
    )
    named = rng.random(n) < 0.35
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    name = np.array(
        [
            f"{FIRST_NAMES[f]} {LAST_NAMES[g]}" if k else ""
            for f, g, k in zip(first, last, named, strict=True)
        ],
        dtype=object,
    )
    phone_digits = rng.integers(0, 10_000, n)
    has_phone = named & (rng.random(n) < 0.7)
    phone = np.array(
        [
            f"555-{200 + d % 700:03d}-{d:04d}" if k else ""
            for d, k in zip(phone_digits, has_phone, strict=True)
        ],
        dtype=object,
    )
    has_email = named & (rng.random(n) < 0.4)
    email = np.array(
        [
            f"{FIRST_NAMES[f].lower()}.{LAST_NAMES[g].lower()}@example.org" if k else ""
            for f, g, k in zip(first, last, has_email, strict=True)
        ],
        dtype=object,
    )
    return {
        "street_address": address,
        "requester_name": name,
        "requester_phone": phone,
        "requester_email": email,
    }


def _messy(rng: np.random.Generator, frame: pd.DataFrame) -> pd.DataFrame:
    """Blank fields and stray spaces, as in a real 311 export."""
    n = len(frame)
    frame.loc[rng.random(n) < 0.07, "priority"] = ""
    frame.loc[rng.random(n) < 0.05, "location_detail"] = ""
    frame.loc[rng.random(n) < 0.015, "income_quintile"] = ""  # address did not geocode
    frame.loc[frame["income_quintile"] == "", "block_group"] = ""
    spaced = rng.random(n) < 0.03
    frame.loc[spaced, "request_type"] = " " + frame.loc[spaced, "request_type"] + " "
    trailing = rng.random(n) < 0.02
    frame.loc[trailing, "channel"] = frame.loc[trailing, "channel"] + " "
    return frame


COLUMNS = (
    "request_id",
    "created_date",
    "created_time",
    "closed_date",
    "request_type",
    "description",
    "channel",
    "priority",
    "location_detail",
    "has_photo",
    "reported_by_staff",
    "service_zone",
    "neighbourhood",
    "block_group",
    "income_quintile",
    "street_address",
    "requester_name",
    "requester_phone",
    "requester_email",
    "created_month",
    "created_weekday",
    "created_hour",
    "same_type_requests_14d",
    "days_to_resolve",
)


def generate(seed: int = DEFAULT_SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The closed requests (labelled) and the requests still open at export (to forecast)."""
    rng = np.random.default_rng(seed)
    places = _places(rng)
    frame = _requests(rng, places)
    frame = frame.sort_values("created", kind="stable").reset_index(drop=True)
    frame["same_type_requests_14d"] = _queue(frame)
    days = _resolution_days(rng, frame)
    frame["description"] = _description(rng, frame)
    for column, values in _people(rng, len(frame)).items():
        frame[column] = values

    created = frame["created"]
    closed = created + pd.to_timedelta(np.round(days * 24 * 60), unit="min")
    frame["request_id"] = [f"SR-{created.iloc[i].year}-{i + 1:06d}" for i in range(len(frame))]
    frame["created_date"] = created.dt.strftime("%Y-%m-%d")
    frame["created_time"] = created.dt.strftime("%H:%M")
    frame["closed_date"] = closed.dt.strftime("%Y-%m-%d")
    frame["created_month"] = created.dt.month
    frame["created_weekday"] = created.dt.day_name().str[:3]
    frame["created_hour"] = created.dt.hour
    frame["days_to_resolve"] = np.round(days, 1)
    frame = _messy(rng, frame)

    is_open = (closed > EXPORT).to_numpy()
    closed_requests = frame.loc[~is_open, list(COLUMNS)].reset_index(drop=True)
    open_columns = [c for c in COLUMNS if c not in ("closed_date", "days_to_resolve")]
    open_requests = frame.loc[is_open, open_columns].reset_index(drop=True)
    return closed_requests, open_requests


def _write(frame: pd.DataFrame, path: Path) -> None:
    text = frame.to_csv(index=False, lineterminator="\n", na_rep="", float_format="%.1f")
    path.write_bytes(text.encode("utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write the CSV files to")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 0)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    closed_requests, open_requests = generate(args.seed)
    _write(closed_requests, args.out / "service_requests.csv")
    _write(open_requests, args.out / "open_requests.csv")
    print(
        f"wrote {len(closed_requests)} closed and {len(open_requests)} open requests to {args.out}"
    )


if __name__ == "__main__":
    main()
