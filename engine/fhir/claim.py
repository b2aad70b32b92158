"""The Claim: its items become the requested procedures, grouped into stages, with settings and
lengths of stay; each request path keeps the Claim element it came from.

Stages come from Warrant's surgical-stage extension, or else from the items' service dates
(earliest first), or else everything is stage 1. A stay is a supportingInfo of the map's stay
category linked to the items of one stage.
"""
from __future__ import annotations

import re
from typing import Any

from engine.cases.positions import format_path
from engine.fhir.common import Origin, codings, full_date, show, tenths
from engine.fhir.condition import read_diagnoses
from engine.fhir.reader import Reader

_CODE = re.compile(r"[0-9A-Z]{5}")


def short_system(r: Reader, system: Any) -> str:
    for short, url in r.m.systems.items():
        if url == system:
            return short
    return str(system)


class ClaimReader:
    def __init__(self, r: Reader, i: int, claim: dict[str, Any]) -> None:
        self.r, self.i, self.claim = r, i, claim
        self.items: dict[tuple[int, int], int] = {}
        self.item_codes: dict[int, str] = {}

    def read(self) -> list[dict[str, Any]]:
        r, i, claim = self.r, self.i, self.claim
        use = claim.get("use")
        wanted = r.m.claim.get("use", "preauthorization")
        if use != wanted:
            r.error(i, ("use",), f"is {use!r}; Warrant decides prior-authorization requests, "
                    f"whose Claim.use is {wanted!r}")
        items = claim.get("item") or []
        if not items:
            r.error(i, ("item",), "the Claim requests no service; a prior-authorization Claim "
                    "lists each requested CPT code as an item")
        infos = {info.get("sequence"): (k, info) for k, info in enumerate(claim.get("supportingInfo") or [])}
        read_diagnoses(r, i, claim)
        rows = []
        seen: dict[Any, int] = {}
        for k, item in enumerate(items):
            seq = item.get("sequence")
            if seq in seen:
                r.error(i, ("item", k, "sequence"), f"sequence {seq} is already used by item[{seen[seq]}]; "
                        "item sequences must be unique")
                continue
            seen[seq] = k
            rows.append(self._item(k, item))
        _stages(r, i, rows)
        return self._requests(rows, _stays(r, i, rows, infos))

    # ---- one item
    def _item(self, k: int, item: dict[str, Any]) -> dict[str, Any]:
        r, i = self.r, self.i
        here = ("item", k)
        code = self._code(here, item)
        proc: dict[str, Any] = {"code": code or "00000"}
        row: dict[str, Any] = {"k": k, "sequence": item.get("sequence"), "proc": proc, "code": code}
        if code:
            self.item_codes[item.get("sequence")] = code
        if item.get("bodySite") is not None:
            level = r.level_of(item["bodySite"], i, here + ("bodySite",))
            if level:
                proc["levels"] = [level]
            elif not any(f.location == r.where(i, here + ("bodySite",)) for f in r.errors):
                r.warn(i, here + ("bodySite",), f"{show(item['bodySite'])} names no spinal level "
                       "Warrant can read; the item is decided without levels")
        self._side(here, item, proc)
        row["stage"] = self._extensions(k, here, item, proc)
        row["date"] = item.get("servicedDate") or (item.get("servicedPeriod") or {}).get("start")
        row["setting"] = self._setting(here, item)
        row["info"] = list(item.get("informationSequence") or [])
        if item.get("detail"):
            r.warn(i, here + ("detail",), "item details (sub-lines) are not read; decide each "
                   "service as an item of its own")
        quantity = (item.get("quantity") or {}).get("value")
        if quantity is not None and code:
            self._check_quantity(k, proc, quantity)
        return row

    def _code(self, here: tuple, item: dict[str, Any]) -> str | None:
        r, i = self.r, self.i
        cpt = r.m.system(r.m.claim.get("cpt", "cpt"))
        code = None
        for coding in codings(item.get("productOrService")):
            if coding.get("system") == cpt and coding.get("code"):
                code = str(coding["code"]).strip().upper().lstrip("+").strip()
                break
        if code is None:
            r.error(i, here + ("productOrService",), f"has no CPT coding (system {cpt}); Warrant "
                    "decides CPT codes")
        elif not _CODE.fullmatch(code):
            r.error(i, here + ("productOrService",), f"{code!r} is not a CPT code; a code is five "
                    "letters or digits such as 22633")
            code = None
        return code

    def _side(self, here: tuple, item: dict[str, Any], proc: dict[str, Any]) -> None:
        """The side: CPT modifiers (the map's `claim.side`), or a laterality in subSite."""
        r, i = self.r, self.i
        sides = []
        for m, modifier in enumerate(item.get("modifier") or []):
            found = None
            for coding in codings(modifier):
                found = r.m.claim.get("side", {}).get(f"{short_system(r, coding.get('system'))}#{coding.get('code')}")
                if found:
                    break
            if found:
                sides.append((found, here + ("modifier", m)))
            else:
                r.warn(i, here + ("modifier", m), f"modifier {show(modifier)} has no place in "
                       "warrant-case/1; not used")
        sub_side = r.side_of(item.get("subSite") or [])
        if sub_side:
            sides.append((sub_side, here + ("subSite",)))
        if len({s for s, _ in sides}) > 1:
            r.error(i, sides[1][1], f"says {sides[1][0]}, but {format_path(sides[0][1])} says "
                    f"{sides[0][0]}; give one side per item")
        elif sides:
            proc["side"] = sides[0][0]

    def _extensions(self, k: int, here: tuple, item: dict[str, Any], proc: dict[str, Any]) -> int | None:
        """Warrant's item extensions: the stage (returned), the span and the map's item fields."""
        r, i = self.r, self.i
        extra = {spec.get("extension"): name for name, spec in r.m.item_fields.items()}
        ext = r.extensions(item, i, here, ("stage", "span", *extra))
        stage = None
        if "stage" in ext:
            node, where = ext["stage"]
            value = node.get("valuePositiveInt", node.get("valueInteger"))
            if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
                stage = value
            else:
                r.error(i, where, "the surgical-stage extension needs valuePositiveInt (1, 2, ...)")
        if "span" in ext:
            self._span(k, ext["span"], proc)
        for url_name, name in extra.items():
            if url_name in ext:
                self._item_field(name, ext[url_name], proc)
        return stage

    def _span(self, k: int, found: tuple[dict[str, Any], tuple], proc: dict[str, Any]) -> None:
        r, i = self.r, self.i
        node, where = found
        value = node.get("valueString")
        try:
            span = r.levels.parse(value)
            if span.is_vertebra:
                raise ValueError(f"{value!r} names one vertebra; a span runs from the first to the "
                                 f"last instrumented vertebra, such as {r.levels.example_span()}")
            proc["span"] = [r.levels.vertebrae[span.first], r.levels.vertebrae[span.last]]
            r.origins[("span", k)] = r.origin(i, where)
        except ValueError as exc:
            r.error(i, where + ("valueString",), str(exc))

    def _item_field(self, name: str, found: tuple[dict[str, Any], tuple], proc: dict[str, Any]) -> None:
        """A procedure field from an item extension (`claim.item_fields`)."""
        r, i = self.r, self.i
        node, where = found
        kind = r.m.item_fields[name].get("value", "decimal")
        keys = {"decimal": ("valueDecimal", "valueInteger"), "integer": ("valueInteger",),
                "boolean": ("valueBoolean",), "code": ("valueCode", "valueString")}.get(kind, ("valueString",))
        value = next((node[key] for key in keys if key in node), None)
        if kind in ("decimal", "integer") and isinstance(value, (int, float)) and not isinstance(value, bool):
            proc[name] = tenths(value) if isinstance(value, float) else value
        elif kind == "boolean" and isinstance(value, bool) or kind == "code" and isinstance(value, str):
            proc[name] = value
        else:
            url = r.m.extensions.get(r.m.item_fields[name].get("extension", ""), name)
            r.error(i, where, f"the {url.rsplit('/', 1)[-1]} extension needs {keys[0]}")

    def _setting(self, here: tuple, item: dict[str, Any]) -> str | None:
        r, i = self.r, self.i
        concept = item.get("locationCodeableConcept")
        if concept is None:
            return None
        for coding in codings(concept):
            setting = r.m.claim.get("setting", {}).get(f"{short_system(r, coding.get('system'))}#{coding.get('code')}")
            if setting:
                return setting
        r.warn(i, here + ("locationCodeableConcept",), f"place of service {show(concept)} "
               "is neither inpatient nor outpatient in fhir-map.yaml; the setting is not "
               "documented")
        return None

    def _check_quantity(self, k: int, proc: dict[str, Any], quantity: Any) -> None:
        r = self.r
        unit = r.code_units.get(proc["code"])
        if unit is None:
            return
        try:
            parsed = [r.levels.parse(text) for text in proc.get("levels", [])]
        except ValueError:
            return
        if unit == "segment":
            count = sum(len(p.segments()) for p in parsed) if parsed else None
            what = "motion segment"
        elif unit == "vertebra":
            count = sum(len(p.vertebrae()) for p in parsed) if parsed else None
            what = "vertebra"
        elif unit == "side":
            count = len(r.sides(proc["side"])) if proc.get("side") else None
            what = "side"
        else:
            count, what = 1, "stage"
        if count is None:
            if quantity != 1:
                r.warn(self.i, ("item", k, "quantity"), f"quantity {quantity} is given but no "
                       f"{what}; Warrant decides the item without levels")
        elif quantity != count:
            r.warn(self.i, ("item", k, "quantity"), f"quantity {quantity} differs from the "
                   f"{count} {what}{'s' if count != 1 else ''} the item names; Warrant decides "
                   "what the item names")

    # ---- the requests
    def _requests(self, rows: list[dict[str, Any]], stays: dict[int, tuple[int, Origin]]) -> list[dict[str, Any]]:
        r, i = self.r, self.i
        requests = []
        stages = sorted({row["stage"] for row in rows if row["stage"] is not None})
        for ri, stage in enumerate(stages):
            request: dict[str, Any] = {"stage": stage}
            stage_rows = [row for row in rows if row["stage"] == stage]
            settings = [(row["setting"], row["k"]) for row in stage_rows if row["setting"]]
            if len({s for s, _ in settings}) > 1:
                first, second = settings[0], next(s for s in settings if s[0] != settings[0][0])
                r.error(i, ("item", second[1], "locationCodeableConcept"), f"is {second[0]}, but "
                        f"item[{first[1]}] of the same stage {stage} is {first[0]}")
            elif settings:
                request["setting"] = settings[0][0]
                r.origins[("requests", ri, "setting")] = r.origin(
                    i, ("item", settings[0][1], "locationCodeableConcept"))
            if stage in stays:
                request["length_of_stay_days"] = stays[stage][0]
                r.origins[("requests", ri, "length_of_stay_days")] = stays[stage][1]
            served = r.m.claim.get("serviced_date")
            dated = next(((full_date(row["date"]), row["k"]) for row in stage_rows if full_date(row["date"])), None)
            if served and dated:  # the stage's day of service (the first item of the stage that gives one)
                request[str(served)] = dated[0].isoformat()
                r.origins[("requests", ri, str(served))] = r.origin(i, ("item", dated[1], "servicedDate"))
            request["procedures"] = [self._procedure(ri, pi, row) for pi, row in enumerate(stage_rows)]
            requests.append(request)
        return requests

    def _procedure(self, ri: int, pi: int, row: dict[str, Any]) -> dict[str, Any]:
        r, i = self.r, self.i
        self.items[(ri, pi)] = row["sequence"]
        k = row["k"]
        base = ("requests", ri, "procedures", pi)
        r.origins[base] = r.origin(i, ("item", k))
        r.origins[base + ("code",)] = r.origin(i, ("item", k, "productOrService"))
        if "levels" in row["proc"]:
            r.origins[base + ("levels",)] = r.origin(i, ("item", k, "bodySite"))
        if "side" in row["proc"]:
            r.origins[base + ("side",)] = r.origin(i, ("item", k))
        if ("span", k) in r.origins:
            r.origins[base + ("span",)] = r.origins.pop(("span", k))
        return row["proc"]


def _stages(r: Reader, i: int, rows: list[dict[str, Any]]) -> None:
    explicit = [row for row in rows if row["stage"] is not None]
    if explicit and len(explicit) != len(rows):
        for row in rows:
            if row["stage"] is None:
                r.error(i, ("item", row["k"]), "other items carry the surgical-stage extension, "
                        "so this item's stage is unknown; give it the extension as well")
        return
    if explicit:
        return
    dated = [row for row in rows if row["date"]]
    if not dated:
        for row in rows:
            row["stage"] = 1
        return
    if len(dated) != len(rows):
        for row in rows:
            if not row["date"]:
                r.error(i, ("item", row["k"]), "other items carry a servicedDate, which orders the "
                        "stages, so this item's stage is unknown; give it a servicedDate or the "
                        "surgical-stage extension")
        return
    order = sorted({str(row["date"])[:10] for row in rows})
    for row in rows:
        row["stage"] = order.index(str(row["date"])[:10]) + 1


def _stays(r: Reader, i: int, rows: list[dict[str, Any]], infos: dict[Any, tuple[int, dict[str, Any]]]
           ) -> dict[int, tuple[int, Origin]]:
    stay_key = r.m.code(r.m.claim.get("stay_category", "claiminfo#hospitalized"))
    stays: dict[int, tuple[int, Origin]] = {}
    linked: dict[Any, set[int]] = {}
    for row in rows:
        for seq in row["info"]:
            if seq not in infos:
                r.error(i, ("item", row["k"], "informationSequence"), f"names supportingInfo "
                        f"sequence {seq}, which the Claim does not have")
                continue
            if row["stage"] is not None:
                linked.setdefault(seq, set()).add(row["stage"])
    stages = sorted({row["stage"] for row in rows if row["stage"] is not None})
    for seq, (k, info) in infos.items():
        here = ("supportingInfo", k)
        category = info.get("category")
        if not any((c.get("system"), c.get("code")) == stay_key for c in codings(category)):
            if info.get("valueReference") is None:
                r.warn(i, here, f"supporting information of category {show(category)} is not "
                       "read (only the length of stay is)")
            continue
        days = _days(r, i, info, k)
        if days is None:
            continue
        targets = linked.get(seq) or (set(stages) if len(stages) == 1 else set())
        if not targets:
            r.warn(i, here, "this length of stay is linked to no item (item.informationSequence) "
                   "and the Claim has several stages; not used")
        if len(targets) > 1:
            r.error(i, here, f"is linked to items of stages {sorted(targets)}; give each stage "
                    "its own length of stay")
            continue
        for stage in targets:
            if stage in stays and stays[stage][0] != days:
                r.error(i, here, f"gives stage {stage} a stay of {days} days, but another "
                        f"supportingInfo gives {stays[stage][0]}")
            stays[stage] = (days, r.origin(i, here))
    return stays


def _days(r: Reader, i: int, info: dict[str, Any], k: int) -> int | None:
    here = ("supportingInfo", k)
    period = info.get("timingPeriod")
    if period:
        start, end = full_date(period.get("start")), full_date(period.get("end"))
        if start and end and end >= start:
            return (end - start).days
        r.error(i, here + ("timingPeriod",), "needs full start and end dates (end not before "
                "start) to give the length of stay")
        return None
    quantity = info.get("valueQuantity")
    if quantity:
        unit = quantity.get("code") or quantity.get("unit")
        value = quantity.get("value")
        if unit in r.m.units.get("days", {}) and isinstance(value, (int, float)) and value >= 0:
            if float(value).is_integer():
                return int(value)
        r.error(i, here + ("valueQuantity",), "needs a whole number of days (UCUM code d)")
        return None
    r.error(i, here, "a length of stay needs timingPeriod (admission to discharge) or "
            "valueQuantity in days")
    return None
