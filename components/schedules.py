"""Time for schedules, pure: cron checks and each region's own time zone.

Two cron dialects meet here: EC2 Auto Scaling scheduled actions take Unix cron (five
fields), EventBridge Scheduler takes ``cron(min hour day-of-month month day-of-week year)``
with ``?`` in one of the two day fields. Both are checked before anything is registered.
"""

from __future__ import annotations

import re
import zoneinfo

# Each region's local time zone (where "lunch" and "night" are for its users).
REGION_TIME_ZONES = {
    "af-south-1": "Africa/Johannesburg", "ap-east-1": "Asia/Hong_Kong", "ap-east-2": "Asia/Taipei",
    "ap-northeast-1": "Asia/Tokyo", "ap-northeast-2": "Asia/Seoul", "ap-northeast-3": "Asia/Tokyo",
    "ap-south-1": "Asia/Kolkata", "ap-south-2": "Asia/Kolkata", "ap-southeast-1": "Asia/Singapore",
    "ap-southeast-2": "Australia/Sydney", "ap-southeast-3": "Asia/Jakarta", "ap-southeast-4": "Australia/Melbourne",
    "ap-southeast-5": "Asia/Kuala_Lumpur", "ap-southeast-6": "Pacific/Auckland", "ap-southeast-7": "Asia/Bangkok",
    "ca-central-1": "America/Toronto", "ca-west-1": "America/Edmonton", "eu-central-1": "Europe/Berlin",
    "eu-central-2": "Europe/Zurich", "eu-north-1": "Europe/Stockholm", "eu-south-1": "Europe/Rome",
    "eu-south-2": "Europe/Madrid", "eu-west-1": "Europe/Dublin", "eu-west-2": "Europe/London",
    "eu-west-3": "Europe/Paris", "il-central-1": "Asia/Jerusalem", "me-central-1": "Asia/Dubai",
    "me-south-1": "Asia/Bahrain", "mx-central-1": "America/Mexico_City", "sa-east-1": "America/Sao_Paulo",
    "us-east-1": "America/New_York", "us-east-2": "America/New_York", "us-west-1": "America/Los_Angeles",
    "us-west-2": "America/Los_Angeles", "cn-north-1": "Asia/Shanghai", "cn-northwest-1": "Asia/Shanghai",
    "eusc-de-east-1": "Europe/Berlin", "us-gov-east-1": "America/New_York", "us-gov-west-1": "America/Los_Angeles",
    "us-iso-east-1": "America/New_York", "us-iso-west-1": "America/Denver", "us-isob-east-1": "America/New_York",
    "us-isob-west-1": "America/Denver", "eu-isoe-west-1": "Europe/London", "us-isof-east-1": "America/New_York",
    "us-isof-south-1": "America/Chicago",
}

MONTHS = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
UNIX_DAYS = {d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}
SCHEDULER_DAYS = {d: i + 1 for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}


class CronError(ValueError):
    pass


def region_time_zone(region: str) -> str:
    return REGION_TIME_ZONES.get(region, "UTC")


def check_time_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
        return True
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False


def _value(token: str, lo: int, hi: int, names: dict, field: str) -> int:
    if token.upper() in names:
        return names[token.upper()]
    if not token.isdigit():
        raise CronError(f"{field}: '{token}' is not a number{' or name' if names else ''}")
    value = int(token)
    if not lo <= value <= hi:
        raise CronError(f"{field}: {value} is outside {lo}-{hi}")
    return value


def _field(text: str, lo: int, hi: int, field: str, names: dict = {}) -> None:  # noqa: B006 (read-only)
    for part in text.split(","):
        base, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            raise CronError(f"{field}: bad step '/{step}'")
        if base == "*":
            continue
        first, dash, last = base.partition("-")
        a = _value(first, lo, hi, names, field)
        if dash and _value(last, lo, hi, names, field) < a:
            raise CronError(f"{field}: range {base} runs backwards")


def check_cron(expr: str) -> None:
    """Unix cron, five fields: minute hour day-of-month month day-of-week."""
    parts = expr.split()
    if len(parts) != 5:
        raise CronError(f"'{expr}' needs 5 fields (minute hour day month weekday), got {len(parts)}")
    for text, (lo, hi, name, names) in zip(parts, [
            (0, 59, "minute", {}), (0, 23, "hour", {}), (1, 31, "day-of-month", {}),
            (1, 12, "month", MONTHS), (0, 7, "day-of-week", UNIX_DAYS)]):
        _field(text, lo, hi, name, names)


def check_scheduler_cron(expr: str) -> None:
    """EventBridge Scheduler: cron(minutes hours day-of-month month day-of-week year)."""
    m = re.fullmatch(r"cron\((.*)\)", expr.strip())
    if not m:
        raise CronError(f"'{expr}' is not cron(minutes hours day-of-month month day-of-week year)")
    parts = m.group(1).split()
    if len(parts) != 6:
        raise CronError(f"'{expr}' needs 6 fields inside cron(...), got {len(parts)}")
    minute, hour, dom, month, dow, year = parts
    if (dom == "?") == (dow == "?"):
        raise CronError(f"'{expr}': exactly one of day-of-month and day-of-week must be '?'")
    _field(minute, 0, 59, "minute")
    _field(hour, 0, 23, "hour")
    if dom != "?":
        _field(dom.replace("L", "31").replace("W", ""), 1, 31, "day-of-month")
    _field(month, 1, 12, "month", MONTHS)
    if dow != "?":
        _field(re.sub(r"#\d$", "", dow).replace("L", ""), 1, 7, "day-of-week", SCHEDULER_DAYS)
    _field(year, 1970, 2199, "year")
