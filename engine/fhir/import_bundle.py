"""A Da Vinci PAS-style prior-authorization Bundle (FHIR R4) → a warrant-case/1 case dict.

`import_bundle(data, name, text)` returns an `Imported` record: the case as plain data, the
warnings (everything that could not be mapped, each naming its resource), the Claim, the map
from requested procedures back to Claim item sequences (for the response) and the provenance
of every case field (which resource and element supplied it). Problems that make the bundle
unusable raise one `CaseError` listing them all, each as
`file:line:col: ResourceType/id: element: message`.

Which code feeds which field is data (kb/fhir-map.yaml, `engine.fhir.mapping`); this module
knows the shapes of the resources. docs/fhir.md documents the mapping as a table.
"""
from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from engine.cases import levels as lv
from engine.cases.positions import Path, Source, format_path
from engine.errors import CaseError, Finding, Location
from engine.fhir.mapping import FhirMap, Rule, load_map

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_CODE = re.compile(r"[0-9A-Z]{5}")
_OBS_USED = {"final", "amended", "corrected", "preliminary"}
_PROC_DONE = {"completed", "in-progress", "stopped"}
_VER_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_CLIN_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_UNLINKED = "unlinked-findings"
_LIST_PATHS = ("patient.red_flags", "history.prior_fusions", "history.hardware_failure")


@dataclass
class Origin:
    """Where a case value came from: a resource (by entry index) and an element in it."""

    label: str
    element: Path
    location: Location

    def describe(self) -> str:
        where = format_path(self.element)
        return f"{self.label}: {where}" if where else self.label


@dataclass
class Imported:
    """The result of importing one bundle."""

    name: str
    case: dict[str, Any]
    warnings: list[Finding]
    bundle: dict[str, Any]
    claim: dict[str, Any]
    claim_label: str
    created: str
    items: dict[tuple[int, int], int]
    item_codes: dict[int, str]
    provenance: dict[str, Origin] = field(default_factory=dict)

    @property
    def case_text(self) -> str:
        return json.dumps(self.case, indent=1, ensure_ascii=False)

    def origin_of(self, case_path: str) -> Origin | None:
        """The origin of the longest recorded prefix of a case field path."""
        best: tuple[int, Origin | None] = (-1, None)
        for key, origin in self.provenance.items():
            if (case_path == key or case_path.startswith(key + ".")
                    or case_path.startswith(key + "[")) and len(key) > best[0]:
                best = (len(key), origin)
        return best[1]


# ---------------------------------------------------------------------------------- small helpers
def _date(text: Any) -> datetime.date | None:
    """A full calendar date from a FHIR date or dateTime (None for partial or bad dates)."""
    if not isinstance(text, str):
        return None
    match = _DATE.match(text)
    if not match or not match.group(3):
        return None
    try:
        return datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _number(value: float) -> int | float:
    value = round(float(value), 1)
    return int(value) if value.is_integer() else value


def _codings(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding") or [] if isinstance(c, dict)]


def _text(concept: Any) -> str | None:
    if not isinstance(concept, dict):
        return None
    if concept.get("text"):
        return str(concept["text"])
    for coding in _codings(concept):
        if coding.get("display"):
            return str(coding["display"])
    for coding in _codings(concept):
        if coding.get("code"):
            return str(coding["code"])
    return None


def _show(concept: Any) -> str:
    """A coded concept as it appears in messages: `system|code` of its first coding, or its text."""
    for coding in _codings(concept):
        return f"{coding.get('system', '')}|{coding.get('code', '')}"
    return repr(_text(concept) or "")


def _set_path(root: dict[str, Any], path: Path, value: Any) -> None:
    node = root
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _get_path(root: dict[str, Any], path: Path) -> Any:
    node: Any = root
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


# ---------------------------------------------------------------------------------- the reader
class _Reader:
    def __init__(self, data: dict[str, Any], name: str, text: str | None, fmap: FhirMap,
                 code_units: Mapping[str, str] | None) -> None:
        self.data = data
        self.name = name
        self.source = Source(name, text if text is not None else json.dumps(data), data)
        self.m = fmap
        self.code_units = code_units or {}
        self.errors: list[Finding] = []
        self.warnings: list[Finding] = []
        self.case: dict[str, Any] = {}
        self.origins: dict[Path, Origin] = {}
        self.entries: list[tuple[int, dict[str, Any]]] = []
        self.refs: dict[str, int] = {}
        self.used: set[int] = set()
        self.studies: dict[str, dict[str, Any]] = {}
        self.study_of_obs: dict[int, str] = {}
        self.report_study: dict[int, str] = {}
        self.empty: dict[Path, Origin] = {}
        self.appended: dict[Path, Origin] = {}
        self.injections: dict[int, list[dict[str, Any]]] = {}
        self.pain_scores: dict[int, list[tuple[str, float, int]]] = {}
        self.relief_set: set[int] = set()
        self.care: list[dict[str, Any]] = []
        self.patient_ref: int | None = None
        self.created: datetime.date | None = None
        self.claim_index: int | None = None

    # ---- messages and places
    def label(self, i: int) -> str:
        resource = self.resource(i)
        kind = resource.get("resourceType", "resource")
        rid = resource.get("id")
        return f"{kind}/{rid}" if rid else f"{kind} at entry[{i}]"

    def resource(self, i: int) -> dict[str, Any]:
        entry = (self.data.get("entry") or [])[i]
        return entry.get("resource") or {}

    def where(self, i: int | None, element: Path = ()) -> Location:
        path = ("entry", i, "resource") + tuple(element) if i is not None else tuple(element)
        return self.source.locate(path)

    def origin(self, i: int, element: Path = ()) -> Origin:
        return Origin(self.label(i), tuple(element), self.where(i, element))

    def error(self, i: int | None, element: Path, message: str) -> None:
        head = self.label(i) if i is not None else "Bundle"
        where = format_path(element)
        text = f"{head}: {where}: {message}" if where else f"{head}: {message}"
        self.errors.append(Finding("invalid_bundle", text, self.where(i, element)))

    def warn(self, i: int | None, element: Path, message: str) -> None:
        head = self.label(i) if i is not None else "Bundle"
        where = format_path(element)
        text = f"{head}: {where}: {message}" if where else f"{head}: {message}"
        self.warnings.append(Finding("fhir_unmapped", text, self.where(i, element), "warning"))

    # ---- references
    def index(self) -> None:
        for i, entry in enumerate(self.data.get("entry") or []):
            resource = entry.get("resource")
            self.entries.append((i, resource))
            kind, rid = resource.get("resourceType"), resource.get("id")
            if entry.get("fullUrl"):
                self.refs.setdefault(str(entry["fullUrl"]), i)
            if rid:
                self.refs.setdefault(f"{kind}/{rid}", i)

    def resolve(self, ref: Any) -> int | None:
        if not isinstance(ref, dict) or not isinstance(ref.get("reference"), str):
            return None
        text = ref["reference"]
        if text in self.refs:
            return self.refs[text]
        parts = text.rstrip("/").split("/")
        if len(parts) >= 2:
            tail = "/".join(parts[-2:])
            if "_history" in parts and len(parts) >= 4:
                tail = "/".join(parts[-4:-2])
            return self.refs.get(tail)
        return None

    # ---- setting case values
    def put(self, path: Path, value: Any, origin: Origin) -> None:
        old = _get_path(self.case, path)
        if old is not None:
            if old != value:
                first = self.origins.get(path)
                self.errors.append(Finding(
                    "invalid_bundle", f"{origin.describe()}: gives {self._field(path)} = "
                    f"{json.dumps(value)}, but {first.describe() if first else 'another resource'} "
                    f"already gives {json.dumps(old)}; the record contradicts itself", origin.location))
            return
        _set_path(self.case, path, value)
        self.origins[path] = origin

    def append(self, path: Path, value: Any, origin: Origin) -> None:
        node = _get_path(self.case, path)
        if node is None:
            node = []
            _set_path(self.case, path, node)
        node.append(value)
        self.origins[path + (len(node) - 1,)] = origin
        self.appended.setdefault(path, origin)

    def none_list(self, path: Path, origin: Origin) -> None:
        self.empty.setdefault(path, origin)

    def _field(self, path: Path) -> str:
        if path and path[0] == "imaging":
            return format_path(("imaging[]",) + tuple(path[2:]))
        return format_path(path)

    # ---- coded values
    def level_of(self, concept: Any, i: int, element: Path) -> str | None:
        """A normalised level from a bodySite (Warrant's level system, or its text); None if none."""
        level_system = self.m.system("level")
        for k, coding in enumerate(_codings(concept)):
            if coding.get("system") == level_system:
                try:
                    return lv.normalise_level(coding.get("code"))
                except lv.LevelError as exc:
                    self.error(i, element + ("coding", k, "code"), str(exc))
                    return None
        text = concept.get("text") if isinstance(concept, dict) else None
        if text:
            try:
                return lv.normalise_level(text)
            except lv.LevelError:
                pass
        return None

    def side_of(self, concepts: Iterable[Any]) -> str | None:
        for concept in concepts:
            for coding in _codings(concept):
                side = self.m.laterality.get((coding.get("system"), coding.get("code")))
                if side:
                    return side
            text = concept.get("text") if isinstance(concept, dict) else None
            if text:
                words = _words(text)
                for side in ("bilateral", "left", "right"):
                    if side in words:
                        return side
        return None

    def coded(self, kind: str, concept: Any) -> Any:
        for coding in _codings(concept):
            word = self.m.value_word(kind, coding.get("system"), coding.get("code"))
            if word is not None:
                return word
        return None

    def rule_for(self, table, concept: Any) -> Rule | str | None:
        for coding in _codings(concept):
            found = table.get(coding.get("system"), coding.get("code"))
            if found is not None:
                return found
        return None

    def extensions(self, holder: dict[str, Any], i: int, element: Path,
                   known: Iterable[str]) -> dict[str, tuple[dict[str, Any], Path]]:
        """The holder's extensions by URL; unknown, non-administrative ones are warned about."""
        known_urls = {self.m.extensions[k]: k for k in known if k in self.m.extensions}
        out: dict[str, tuple[dict[str, Any], Path]] = {}
        for k, ext in enumerate(holder.get("extension") or []):
            url = ext.get("url", "")
            here = element + ("extension", k)
            if url in known_urls:
                out[known_urls[url]] = (ext, here)
            elif not self.m.ignored_extension(url):
                self.warn(i, here, f"extension {url} has no place in warrant-case/1; not used")
        return out


# ---------------------------------------------------------------------------------- the Claim
class _ClaimReader:
    def __init__(self, r: _Reader, i: int, claim: dict[str, Any]) -> None:
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
        self._diagnoses()
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
        self._stages(rows)
        stays = self._stays(rows, infos)
        return self._requests(rows, stays)

    def _diagnoses(self) -> None:
        r, i = self.r, self.i
        for k, diagnosis in enumerate(self.claim.get("diagnosis") or []):
            concept = diagnosis.get("diagnosisCodeableConcept")
            if concept is None:
                continue  # a diagnosisReference: the Condition is read as a resource of its own
            rule = r.rule_for(r.m.conditions, concept)
            element = ("diagnosis", k, "diagnosisCodeableConcept")
            if isinstance(rule, Rule) and "{" in rule.field:
                r.warn(i, element, f"diagnosis {_show(concept)} needs a level or side; send it as a "
                       "Condition with bodySite; not used")
                continue
            if not isinstance(rule, Rule):
                r.warn(i, element, f"diagnosis {_show(concept)} is not in fhir-map.yaml; not used")
                continue
            _apply_condition(r, i, rule, {"code": concept}, element, r.origin(i, element), refuted=False)

    def _item(self, k: int, item: dict[str, Any]) -> dict[str, Any]:
        r, i = self.r, self.i
        here: Path = ("item", k)
        row: dict[str, Any] = {"k": k, "sequence": item.get("sequence"), "proc": {}}
        cpt = r.m.system(r.m.claim.get("cpt", "cpt"))
        code = None
        for coding in _codings(item.get("productOrService")):
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
        row["code"] = code
        proc = row["proc"]
        proc["code"] = code or "00000"
        if code:
            self.item_codes[item.get("sequence")] = code
        # levels
        if item.get("bodySite") is not None:
            level = r.level_of(item["bodySite"], i, here + ("bodySite",))
            if level:
                proc["levels"] = [level]
            elif not any(f.location == r.where(i, here + ("bodySite",)) for f in r.errors):
                r.warn(i, here + ("bodySite",), f"{_show(item['bodySite'])} names no spinal level "
                       "Warrant can read; the item is decided without levels")
        # side: CPT modifiers LT/RT/50, or a laterality in subSite
        sides = []
        for m, modifier in enumerate(item.get("modifier") or []):
            found = None
            for coding in _codings(modifier):
                found = r.m.claim.get("side", {}).get(f"{_short(r.m, coding.get('system'))}#{coding.get('code')}")
                if found:
                    break
            if found:
                sides.append((found, here + ("modifier", m)))
            else:
                r.warn(i, here + ("modifier", m), f"modifier {_show(modifier)} has no place in "
                       "warrant-case/1; not used")
        sub_side = r.side_of(item.get("subSite") or [])
        if sub_side:
            sides.append((sub_side, here + ("subSite",)))
        if len({s for s, _ in sides}) > 1:
            r.error(i, sides[1][1], f"says {sides[1][0]}, but {format_path(sides[0][1])} says "
                    f"{sides[0][0]}; give one side per item")
        elif sides:
            proc["side"] = sides[0][0]
        # Warrant's item extensions: stage, span, facet resection
        ext = r.extensions(item, i, here, ("stage", "span", "facet_resection_percent"))
        row["stage"] = None
        if "stage" in ext:
            value, where = ext["stage"][0].get("valuePositiveInt", ext["stage"][0].get("valueInteger")), ext["stage"][1]
            if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
                row["stage"] = value
            else:
                r.error(i, where, "the surgical-stage extension needs valuePositiveInt (1, 2, ...)")
        if "span" in ext:
            value, where = ext["span"][0].get("valueString"), ext["span"][1]
            try:
                span = lv.parse_level(value)
                if span.is_vertebra:
                    raise lv.LevelError(f"{value!r} names one vertebra; a span runs from the first "
                                        "to the last instrumented vertebra, such as L4-S1")
                proc["span"] = [lv.VERTEBRAE[span.first], lv.VERTEBRAE[span.last]]
                r.origins[("span",) + (k,)] = r.origin(i, where)
            except lv.LevelError as exc:
                r.error(i, where + ("valueString",), str(exc))
        if "facet_resection_percent" in ext:
            node, where = ext["facet_resection_percent"]
            value = node.get("valueDecimal", node.get("valueInteger"))
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                proc["facet_resection_percent"] = _number(value) if isinstance(value, float) else value
            else:
                r.error(i, where, "the facet-resection-percent extension needs valueDecimal")
        # when, where, how many
        row["date"] = item.get("servicedDate") or (item.get("servicedPeriod") or {}).get("start")
        row["setting"] = None
        if item.get("locationCodeableConcept") is not None:
            concept = item["locationCodeableConcept"]
            for coding in _codings(concept):
                setting = r.m.claim.get("setting", {}).get(
                    f"{_short(r.m, coding.get('system'))}#{coding.get('code')}")
                if setting:
                    row["setting"] = setting
                    break
            if row["setting"] is None:
                r.warn(i, here + ("locationCodeableConcept",), f"place of service {_show(concept)} "
                       "is neither inpatient nor outpatient in fhir-map.yaml; the setting is not "
                       "documented")
        row["info"] = list(item.get("informationSequence") or [])
        if item.get("detail"):
            r.warn(i, here + ("detail",), "item details (sub-lines) are not read; decide each "
                   "service as an item of its own")
        quantity = (item.get("quantity") or {}).get("value")
        if quantity is not None and code:
            self._check_quantity(k, proc, quantity)
        return row

    def _check_quantity(self, k: int, proc: dict[str, Any], quantity: Any) -> None:
        r = self.r
        unit = r.code_units.get(proc["code"])
        if unit is None:
            return
        try:
            parsed = [lv.parse_level(text) for text in proc.get("levels", [])]
        except lv.LevelError:
            return
        if unit == "segment":
            count = sum(len(p.segments()) for p in parsed) if parsed else None
            what = "motion segment"
        elif unit == "vertebra":
            count = sum(len(p.vertebrae()) for p in parsed) if parsed else None
            what = "vertebra"
        elif unit == "side":
            count = {"bilateral": 2, "left": 1, "right": 1}.get(proc.get("side", ""))
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

    def _stages(self, rows: list[dict[str, Any]]) -> None:
        r, i = self.r, self.i
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

    def _stays(self, rows: list[dict[str, Any]], infos: dict[Any, tuple[int, dict[str, Any]]]
               ) -> dict[int, tuple[int, Origin]]:
        r, i = self.r, self.i
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
            here: Path = ("supportingInfo", k)
            category = info.get("category")
            is_stay = any((c.get("system"), c.get("code")) == stay_key for c in _codings(category))
            if not is_stay:
                if info.get("valueReference") is None:
                    r.warn(i, here, f"supporting information of category {_show(category)} is not "
                           "read (only the length of stay is)")
                continue
            days = self._days(info, k)
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

    def _days(self, info: dict[str, Any], k: int) -> int | None:
        r, i = self.r, self.i
        here: Path = ("supportingInfo", k)
        period = info.get("timingPeriod")
        if period:
            start, end = _date(period.get("start")), _date(period.get("end"))
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

    def _requests(self, rows: list[dict[str, Any]], stays: dict[int, tuple[int, Origin]]
                  ) -> list[dict[str, Any]]:
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
            request["procedures"] = []
            for pi, row in enumerate(stage_rows):
                request["procedures"].append(row["proc"])
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
            requests.append(request)
        return requests


def _short(m: FhirMap, system: Any) -> str:
    for short, url in m.systems.items():
        if url == system:
            return short
    return str(system)


# ---------------------------------------------------------------------------------- values
def _value(r: _Reader, holder: dict[str, Any], rule: Rule, i: int, element: Path) -> Any:
    """The case value an Observation (or component) gives for a rule; errors are reported."""
    kind = rule.value
    present = [k for k in holder if k.startswith("value") and k != "value"]
    if not present:
        if holder.get("dataAbsentReason") is not None:
            return None
        interpretation = holder.get("interpretation")
        if kind == "result" and interpretation:
            for concept in interpretation:
                word = r.coded("result", concept)
                if word:
                    return word
        r.error(i, element + ("value[x]",), f"is missing; {rule.field} needs a value "
                "(or dataAbsentReason when it is not known)")
        return None
    key = present[0]
    raw = holder[key]
    here = element + (key,)
    if kind in ("flag", "none_list"):
        if key == "valueBoolean":
            return raw
        if key == "valueCodeableConcept":
            word = r.coded("flag", raw)
            if isinstance(word, bool):
                return word
            if word in ("true", "false"):
                return word == "true"
        r.error(i, here, f"{rule.field} needs valueBoolean (true or false)")
        return None
    if kind == "red_flag":
        if key == "valueBoolean":
            return raw
        word = r.coded("red_flag", raw) if key == "valueCodeableConcept" else None
        if word:
            return word
        r.error(i, here, "a red-flag Observation needs valueCodeableConcept naming the red flag "
                "(or valueBoolean false for none)")
        return None
    if kind in ("grade", "result", "smoking", "outcome"):
        word = None
        if key == "valueCodeableConcept":
            word = r.coded(kind, raw)
            if word is None and kind in ("smoking",):
                if any(c.get("system") == r.m.system("snomed") and c.get("code") == "266927001"
                       for c in _codings(raw)):
                    return None  # "unknown if ever smoked": not documented
        elif key == "valueString":
            word = str(raw).strip().lower().replace(" ", "_").replace("-", "_")
        elif key == "valueBoolean" and kind == "result":
            word = "positive" if raw else "negative"
        allowed = {"grade": ("none", "mild", "mild_moderate", "moderate", "moderate_severe", "severe"),
                   "result": ("positive", "negative"), "smoking": ("never", "former", "current"),
                   "outcome": ("failed", "improved", "ongoing")}[kind]
        if word in allowed:
            return word
        shown = _show(raw) if isinstance(raw, dict) else repr(raw)
        r.error(i, here, f"{shown} is not a value Warrant reads for {rule.field} "
                f"({', '.join(allowed)}; see fhir-map.yaml)")
        return None
    if kind == "integer":
        value = raw.get("value") if key == "valueQuantity" and isinstance(raw, dict) else raw
        if key in ("valueInteger", "valueQuantity") and isinstance(value, (int, float)) \
                and not isinstance(value, bool) and float(value).is_integer():
            return int(value)
        r.error(i, here, f"{rule.field} needs valueInteger (a whole number)")
        return None
    if kind in r.m.units:
        if key != "valueQuantity" or not isinstance(raw, dict):
            r.error(i, here, f"{rule.field} needs valueQuantity with a UCUM unit "
                    f"({', '.join(r.m.units[kind])})")
            return None
        value, unit = raw.get("value"), raw.get("code") or raw.get("unit")
        factor = r.m.units[kind].get(unit)
        if factor is None:
            r.error(i, here + ("code",), f"unit {unit!r} cannot be read for {rule.field}; use one of "
                    f"{', '.join(r.m.units[kind])} (UCUM)")
            return None
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            r.error(i, here + ("value",), "needs a number")
            return None
        return _plain(value * factor)
    r.error(i, here, f"fhir-map.yaml gives {rule.field} the unknown value kind {kind!r}")
    return None


def _plain(value: float) -> int | float:
    value = round(value, 6)
    return int(value) if float(value).is_integer() else value


# ---------------------------------------------------------------------------------- placement
def _leaf(rule: Rule) -> str:
    return rule.field.rstrip("[]").rsplit(".", 1)[-1]


def _place(r: _Reader, rule: Rule, value: Any, i: int, element: Path, origin: Origin,
           resource: dict[str, Any], *, study: str | None = None) -> None:
    """Put a value at the rule's field, filling {segment}, {side} and imaging[] from the resource."""
    parts = rule.field.split(".")
    paths: list[list[Any]] = [[]]
    for part in parts:
        if part == "imaging[]":
            key = study or _UNLINKED
            if key not in r.studies:
                r.studies[key] = {"id": key}
            paths = [p + ["imaging", key] for p in paths]
        elif part == "{segment}":
            concept = resource.get("bodySite")
            concepts = concept if isinstance(concept, list) else [concept]
            segment = None
            before = len(r.errors)
            for c in concepts:
                level = r.level_of(c, i, ("bodySite",)) if c else None
                if level:
                    try:
                        segment = lv.segment(level)
                    except lv.LevelError as exc:
                        r.error(i, ("bodySite",), str(exc))
                        return
                    break
            if segment is None:
                if len(r.errors) == before:
                    r.error(i, ("bodySite",), f"{_leaf(rule)} needs the motion segment in bodySite "
                            f"(a {r.m.system('level')} code such as L4-5, or that text)")
                return
            paths = [p + [segment] for p in paths]
        elif part == "{side}":
            concept = resource.get("bodySite")
            side = r.side_of(concept if isinstance(concept, list) else [concept] if concept else [])
            if side is None:
                r.error(i, ("bodySite",), f"{_leaf(rule)} needs the side in bodySite (SNOMED "
                        "laterality 7771000 left, 24028007 right, 51440002 both; or that word)")
                return
            sides = ["left", "right"] if side == "bilateral" else [side]
            paths = [p + [s] for p in paths for s in sides]
        else:
            paths = [p + [part] for p in paths]
    for path in paths:
        last = path[-1]
        if isinstance(last, str) and last.endswith("[]"):
            target = tuple(path[:-1]) + (last[:-2],)
            if rule.value in ("none_list", "red_flag") and value is False:
                r.none_list(target, origin)
            elif rule.value in ("none_list",) or value is True:
                r.warn(i, element, f"a true {rule.field} names nothing; record each entry as a "
                       "resource of its own")
            else:
                r.append(target, value, origin)
        else:
            r.put(tuple(path), value, origin)


# ---------------------------------------------------------------------------------- resources
def _studies(r: _Reader) -> None:
    """Register imaging studies (ImagingStudy, DiagnosticReport) in entry order."""
    modality_system = r.m.system("modality")
    reports_of = r.report_study
    for i, resource in r.entries:
        kind = resource.get("resourceType")
        if kind not in ("ImagingStudy", "DiagnosticReport"):
            continue
        key = r.label(i)
        if kind == "DiagnosticReport":
            linked = [r.resolve(ref) for ref in resource.get("imagingStudy") or []]
            linked = [j for j in linked if j is not None]
            if len(linked) == 1:
                reports_of[i] = r.label(linked[0])
                for ref in resource.get("result") or []:
                    j = r.resolve(ref)
                    if j is not None:
                        r.study_of_obs.setdefault(j, reports_of[i])
                r.used.add(i)
                continue
        study: dict[str, Any] = {"id": resource.get("id") or key}
        concepts = [resource.get("code")] + list(resource.get("procedureCode") or [])
        modality = None
        for concept in concepts:
            for coding in _codings(concept):
                if coding.get("system") == modality_system:
                    modality = coding.get("code")
        if modality is None:
            codings = list(resource.get("modality") or [])
            codings += [s.get("modality") for s in resource.get("series") or [] if s.get("modality")]
            for coding in codings:
                modality = r.m.value_word("modality", coding.get("system"), coding.get("code"))
                if modality:
                    break
        if modality:
            study["modality"] = modality
        when = resource.get("started") or resource.get("effectiveDateTime") or \
            (resource.get("effectivePeriod") or {}).get("start")
        if isinstance(when, str) and _DATE.match(when):
            study["date"] = when[:10]
        study["_entry"] = i
        r.studies[key] = study
        r.used.add(i)
        for ref in resource.get("result") or []:
            j = r.resolve(ref)
            if j is not None:
                r.study_of_obs.setdefault(j, key)


def _subject_ok(r: _Reader, i: int, resource: dict[str, Any]) -> bool:
    subject = resource.get("subject") or resource.get("patient")
    if subject is None or r.patient_ref is None:
        return True
    j = r.resolve(subject)
    if j is not None and j != r.patient_ref:
        r.warn(i, ("subject",), f"is about {r.label(j)}, not the Claim's patient "
               f"{r.label(r.patient_ref)}; not used")
        return False
    return True


def _apply_condition(r: _Reader, i: int, rule: Rule, resource: dict[str, Any], element: Path,
                     origin: Origin, *, refuted: bool) -> None:
    kind = rule.value
    if kind == "presence":
        _place(r, rule, not refuted, i, element, origin, resource)
    elif isinstance(kind, dict) and "constant" in kind:
        if refuted:
            r.warn(i, element, f"is refuted; a refuted entry does not say that {rule.field} is "
                   "empty, so it is not used")
            return
        value: Any = kind["constant"]
        if rule.field.startswith("history.hardware_failure"):
            value = {"finding": kind["constant"]}
            sites = resource.get("bodySite") or []
            for s, concept in enumerate(sites if isinstance(sites, list) else [sites]):
                level = r.level_of(concept, i, ("bodySite", s))
                if level:
                    value["level"] = level
                    break
        _place(r, rule, value, i, element, origin, resource)
    elif kind == "text":
        if refuted:
            return
        _place(r, rule, _text(resource.get("code")) or "unnamed condition", i, element, origin, resource)


def _condition(r: _Reader, i: int, resource: dict[str, Any]) -> None:
    if not _subject_ok(r, i, resource):
        return
    verification = {c.get("code") for c in _codings(resource.get("verificationStatus"))
                    if c.get("system") in (_VER_STATUS, None)}
    clinical = {c.get("code") for c in _codings(resource.get("clinicalStatus"))
                if c.get("system") in (_CLIN_STATUS, None)}
    if "entered-in-error" in verification:
        r.warn(i, ("verificationStatus",), "is entered-in-error; not used")
        return
    if clinical & {"inactive", "resolved", "remission"}:
        r.warn(i, ("clinicalStatus",), f"is {sorted(clinical)[0]}; Warrant reads active "
               "conditions only, so it is not used")
        return
    refuted = "refuted" in verification
    rule = r.rule_for(r.m.conditions, resource.get("code"))
    if not isinstance(rule, Rule):
        for concept in resource.get("category") or []:
            for coding in _codings(concept):
                found = r.m.condition_categories.get((coding.get("system"), coding.get("code")))
                if found:
                    rule = found
    if not isinstance(rule, Rule):
        r.warn(i, ("code",), f"condition {_show(resource.get('code'))} is not in fhir-map.yaml; "
               "not used")
        return
    _apply_condition(r, i, rule, resource, ("code",), r.origin(i, ("code",)), refuted=refuted)


def _observation(r: _Reader, i: int, resource: dict[str, Any]) -> None:
    status = resource.get("status")
    if status not in _OBS_USED:
        r.warn(i, ("status",), f"is {status!r}; only final, amended, corrected and preliminary "
               "observations are read, so it is not used")
        return
    if not _subject_ok(r, i, resource):
        return
    code = resource.get("code")
    role = None
    for coding in _codings(code):
        role = r.m.injection_observations.get((coding.get("system"), coding.get("code")))
        if role:
            break
    if role:
        _injection_observation(r, i, resource, role)
        return
    study = None
    for ref in resource.get("derivedFrom") or []:
        j = r.resolve(ref)
        if j is not None and r.label(j) in r.studies:
            study = r.label(j)
            break
        if j is not None and j in r.report_study:
            study = r.report_study[j]
            break
    study = study or r.study_of_obs.get(i)
    holders: list[tuple[dict[str, Any], Path]] = []
    has_value = any(k.startswith("value") for k in resource) or resource.get("dataAbsentReason")
    rule = r.rule_for(r.m.observations, code)
    if isinstance(rule, Rule) or has_value or not resource.get("component"):
        holders.append((resource, ()))
    for c, component in enumerate(resource.get("component") or []):
        holders.append((component, ("component", c)))
    for holder, element in holders:
        concept = holder.get("code")
        found = r.rule_for(r.m.observations, concept)
        if not isinstance(found, Rule):
            what = "observation" if not element else "component"
            r.warn(i, element + ("code",), f"{what} {_show(concept)} is not in fhir-map.yaml; "
                   "not used")
            continue
        value = _value(r, holder, found, i, element)
        if value is None:
            continue
        key = next((k for k in holder if k.startswith("value")), "value[x]")
        origin = r.origin(i, element + (key,))
        _place(r, found, value, i, element, origin, resource, study=study)


def _injection_observation(r: _Reader, i: int, resource: dict[str, Any], role: str) -> None:
    target = None
    for ref in resource.get("partOf") or []:
        j = r.resolve(ref)
        if j is not None and j in r.injections:
            target = j
            break
    if target is None:
        r.warn(i, ("partOf",), f"a {role.replace('_', ' ')} counts only as part of a diagnostic "
               "injection (Observation.partOf a Procedure in the bundle); not used")
        return
    if role == "relief_percent":
        rule = Rule("si_joint.{side}.diagnostic_injections[].relief_percent", "percent")
        value = _value(r, resource, rule, i, ())
        if value is None:
            return
        if value > 100:
            r.error(i, ("valueQuantity", "value"), "relief cannot exceed 100%")
            return
        for entry in r.injections[target]:
            entry["relief_percent"] = value
        r.relief_set.add(target)
        return
    score = resource.get("valueQuantity", {}).get("value") if isinstance(resource.get("valueQuantity"), dict) \
        else resource.get("valueInteger")
    when = resource.get("effectiveDateTime") or (resource.get("effectivePeriod") or {}).get("start")
    if not isinstance(score, (int, float)) or isinstance(score, bool) or not when:
        r.warn(i, (), "a pain score needs a number (valueQuantity or valueInteger) and "
               "effectiveDateTime to count toward the relief of an injection; not used")
        return
    r.pain_scores.setdefault(target, []).append((str(when), float(score), i))


def _procedure(r: _Reader, i: int, resource: dict[str, Any]) -> None:
    status = resource.get("status")
    if status == "entered-in-error" or (status not in _PROC_DONE and status != "not-done"):
        r.warn(i, ("status",), f"is {status!r}; only completed, in-progress, stopped and not-done "
               "procedures are read, so it is not used")
        return
    if not _subject_ok(r, i, resource):
        return
    role = r.rule_for(r.m.procedures, resource.get("code"))
    if not isinstance(role, str):
        r.warn(i, ("code",), f"procedure {_show(resource.get('code'))} is not in fhir-map.yaml; "
               "not used")
        return
    origin = r.origin(i, ("code",))
    done = status != "not-done"
    if role == "prior_fusion":
        path: Path = ("history", "prior_fusions")
        if not done:
            r.none_list(path, r.origin(i, ("status",)))
            return
        fusion: dict[str, Any] = {}
        found = []
        for s, concept in enumerate(resource.get("bodySite") or []):
            level = r.level_of(concept, i, ("bodySite", s))
            if level:
                found.append(level)
        if found:
            fusion["levels"] = found
        ext = r.extensions(resource, i, (), ("instrumented",))
        if "instrumented" in ext and isinstance(ext["instrumented"][0].get("valueBoolean"), bool):
            fusion["instrumented"] = ext["instrumented"][0]["valueBoolean"]
        elif resource.get("focalDevice"):
            fusion["instrumented"] = True
        when = resource.get("performedDateTime") or (resource.get("performedPeriod") or {}).get("start") \
            or resource.get("performedString")
        if isinstance(when, str) and re.match(r"^\d{4}", when):
            fusion["year"] = int(when[:4])
        r.append(path, fusion, origin)
        return
    if role in ("physical_therapy", "conservative_care"):
        period = resource.get("performedPeriod") or {}
        start = _date(period.get("start") or resource.get("performedDateTime"))
        end = _date(period.get("end")) or (r.created if status == "in-progress" and start else None)
        if done and (start is None or end is None):
            r.warn(i, ("performedPeriod",), "a course of care needs performedPeriod with full start "
                   "and end dates (an in-progress course may omit the end) to count its weeks; "
                   "its weeks are not counted")
        outcome = r.coded("outcome", resource.get("outcome")) if resource.get("outcome") else None
        if resource.get("outcome") and outcome is None:
            r.warn(i, ("outcome",), f"outcome {_show(resource.get('outcome'))} is not in "
                   "fhir-map.yaml; not used")
        if status == "in-progress":
            outcome = "ongoing"
        r.care.append({"role": role, "done": done, "start": start, "end": end, "outcome": outcome,
                       "text": _text(resource.get("code")), "i": i})
        return
    if role == "si_injection":
        sites = resource.get("bodySite") or []
        side = r.side_of(sites)
        if side is None:
            r.error(i, ("bodySite",), "a diagnostic SI-joint injection needs its side in bodySite "
                    "(SNOMED laterality 7771000 left, 24028007 right, 51440002 both; or that word)")
            return
        sides = ["left", "right"] if side == "bilateral" else [side]
        if not done:
            for s in sides:
                r.none_list(("si_joint", s, "diagnostic_injections"), r.origin(i, ("status",)))
            return
        guided = None
        ext = r.extensions(resource, i, (), ("image_guided",))
        if "image_guided" in ext and isinstance(ext["image_guided"][0].get("valueBoolean"), bool):
            guided = ext["image_guided"][0]["valueBoolean"]
        elif any((c.get("system"), c.get("code")) in r.m.guided_injections
                 for c in _codings(resource.get("code"))):
            guided = True
        entries = []
        for s in sides:
            entry: dict[str, Any] = {}
            if guided is not None:
                entry["image_guided"] = guided
            r.append(("si_joint", s, "diagnostic_injections"), entry, origin)
            entries.append(entry)
        r.injections[i] = entries
        return
    r.warn(i, ("code",), f"fhir-map.yaml names the unknown procedure role {role!r}; not used")


def _patient(r: _Reader, i: int, resource: dict[str, Any]) -> None:
    gender = resource.get("gender")
    if gender in ("female", "male", "other", "unknown"):
        r.put(("patient", "sex"), gender, r.origin(i, ("gender",)))
    birth = resource.get("birthDate")
    if birth:
        born = _date(birth)
        if born is None or r.created is None:
            r.warn(i, ("birthDate",), "a full birthDate and Claim.created are needed to give the age; "
                   "the age is not documented")
        else:
            now = r.created
            age = now.year - born.year - ((now.month, now.day) < (born.month, born.day))
            r.put(("patient", "age"), age, r.origin(i, ("birthDate",)))


# ---------------------------------------------------------------------------------- finishing
def _finish_injections(r: _Reader) -> None:
    for target, scores in r.pain_scores.items():
        if target in r.relief_set:
            continue
        label = r.label(target)
        if len(scores) < 2:
            r.warn(scores[0][2], (), f"one pain score cannot give the relief of {label}; send a "
                   "score before and one after the injection, or its relief in %")
            continue
        scores.sort()
        before, after = scores[0][1], scores[-1][1]
        if before <= 0:
            r.warn(scores[0][2], (), f"the pain score before {label} is 0, so no relief can be "
                   "computed; not used")
            continue
        relief = max(0.0, (before - after) / before * 100)
        for entry in r.injections[target]:
            entry["relief_percent"] = _plain(round(relief, 1))


def _finish_care(r: _Reader) -> None:
    courses = r.care
    if not courses:
        return
    cc = ("conservative_care",)
    pt = [c for c in courses if c["role"] == "physical_therapy"]
    if pt and _get_path(r.case, cc + ("physical_therapy_weeks",)) is None:
        days = 0
        counted = False
        for course in pt:
            if not course["done"]:
                counted = True
            elif course["start"] and course["end"]:
                days += max(0, (course["end"] - course["start"]).days)
                counted = True
        if counted:
            r.put(cc + ("physical_therapy_weeks",), _number(days / 7), r.origin(pt[0]["i"], ("performedPeriod",)))
    done = [c for c in courses if c["done"] and c["start"] and c["end"]]
    if done and _get_path(r.case, cc + ("duration_weeks",)) is None:
        first = min(c["start"] for c in done)
        last = max(c["end"] for c in done)
        r.put(cc + ("duration_weeks",), _number((last - first).days / 7),
              r.origin(done[0]["i"], ("performedPeriod",)))
    with_outcome = [c for c in courses if c["outcome"]]
    if with_outcome and _get_path(r.case, cc + ("outcome",)) is None:
        latest = max(with_outcome, key=lambda c: (c["end"] or datetime.date.max, c["i"]))
        r.put(cc + ("outcome",), latest["outcome"], r.origin(latest["i"], ("outcome",)))
    texts = []
    for course in courses:
        if course["done"] and course["text"] and course["text"] not in texts:
            texts.append(course["text"])
    if texts:
        r.put(cc + ("modalities",), texts, r.origin(courses[0]["i"], ("code",)))


def _finish_lists(r: _Reader) -> None:
    for path, origin in r.empty.items():
        node = _get_path(r.case, path)
        if node:
            first = r.appended.get(path)
            r.errors.append(Finding(
                "invalid_bundle", f"{origin.describe()}: records that {format_path(path)} is empty, "
                f"but {first.describe() if first else 'another resource'} records an entry; the "
                "record contradicts itself", origin.location))
        elif node is None:
            _set_path(r.case, path, [])
            r.origins[path] = origin


def _finish_imaging(r: _Reader) -> None:
    studies = []
    remap: dict[str, int] = {}
    for key, study in r.studies.items():
        body = r.case.get("imaging", {}).get(key) if isinstance(r.case.get("imaging"), dict) else None
        if not body:
            if "_entry" in study:
                r.warn(study["_entry"], (), "no Observation reports findings from this study; not used")
            continue
        entry = {k: v for k, v in study.items() if not k.startswith("_")}
        for part in ("segments", "alignment"):
            if part in body:
                entry[part] = body[part]
        remap[key] = len(studies)
        studies.append(entry)
    r.case.pop("imaging", None)
    if studies:
        r.case["imaging"] = studies
    for path in [p for p in r.origins if p and p[0] == "imaging"]:
        origin = r.origins.pop(path)
        if path[1] in remap:
            r.origins[("imaging", remap[path[1]]) + tuple(path[2:])] = origin


def _assemble(r: _Reader, case_id: str, summary: str, requests: list[dict[str, Any]]) -> dict[str, Any]:
    case: dict[str, Any] = {"format": "warrant-case/1", "case_id": case_id, "summary": summary}
    for key in ("patient", "symptoms", "exam", "conservative_care", "history", "imaging", "si_joint"):
        if key in r.case:
            case[key] = r.case[key]
    case["requests"] = requests
    return case


# ---------------------------------------------------------------------------------- entry point
def import_bundle(data: dict[str, Any], name: str = "<bundle>", text: str | None = None, *,
                  kb_root: Any = None, code_units: Mapping[str, str] | None = None,
                  fhir_map: FhirMap | None = None) -> Imported:
    """Map a FHIR R4 Bundle (parsed JSON) to a warrant-case/1 dict; see the module docstring."""
    from engine.fhir import require_models
    from engine.fhir.models import validate_bundle

    require_models(name)
    fmap = fhir_map or load_map(kb_root)
    r = _Reader(data, name, text, fmap, code_units)

    def label(i: int) -> str:
        entry = (data.get("entry") or [])[i]
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict):
            return f"entry[{i}]"
        kind, rid = res.get("resourceType", "resource"), res.get("id")
        return f"{kind}/{rid}" if rid else f"{kind} at entry[{i}]"

    problems: list[Finding] = []
    validate_bundle(data, label, lambda path, message: problems.append(
        Finding("invalid_bundle", message, r.source.locate(tuple(path)))))
    if problems:
        _raise(name, problems)
    r.index()

    claims = [(i, res) for i, res in r.entries if res.get("resourceType") == "Claim"]
    if not claims:
        _raise(name, [Finding("invalid_bundle", "Bundle: entry: holds no Claim; a prior-authorization "
                              "bundle (Da Vinci PAS) holds a Claim with use preauthorization and the "
                              "resources it references", r.where(None, ("entry",)))])
    preauth = [c for c in claims if c[1].get("use") == fmap.claim.get("use", "preauthorization")]
    chosen = preauth or claims
    if len(chosen) > 1:
        _raise(name, [Finding("invalid_bundle", f"{r.label(i)}: the bundle holds {len(chosen)} "
                              "prior-authorization Claims; send one Claim per bundle", r.where(i))
                      for i, _ in chosen[1:]])
    ci, claim = chosen[0]
    r.claim_index = ci
    r.used.add(ci)
    for i, _ in claims:
        if i != ci:
            r.warn(i, ("use",), f"a Claim with use {r.resource(i).get('use')!r} beside the "
                   "prior-authorization Claim; not used")
            r.used.add(i)
    created_text = claim.get("created") or data.get("timestamp")
    r.created = _date(created_text)
    if r.created is None:
        r.error(ci, ("created",), "needs a full date: Warrant dates ages, ongoing care and its "
                "answer from the Claim's creation")

    j = r.resolve(claim.get("patient"))
    if j is not None and r.resource(j).get("resourceType") == "Patient":
        r.patient_ref = j
        r.used.add(j)
        _patient(r, j, r.resource(j))
    else:
        r.warn(ci, ("patient",), "the Claim's patient is not in the bundle; age and sex are not "
               "documented")

    claim_reader = _ClaimReader(r, ci, claim)
    requests = claim_reader.read()
    _studies(r)
    handlers = (("Procedure", _procedure), ("Condition", _condition), ("Observation", _observation))
    for kind, handler in handlers:
        for i, resource in r.entries:
            if resource.get("resourceType") == kind:
                r.used.add(i)
                handler(r, i, resource)
    for i, resource in r.entries:
        kind = resource.get("resourceType")
        if i in r.used or kind in fmap.administrative:
            continue
        if kind == "Patient":
            r.warn(i, (), "a second Patient, not the Claim's; not used")
        else:
            r.warn(i, (), f"{kind} has no place in warrant-case/1; not used")
    _finish_injections(r)
    _finish_care(r)
    _finish_lists(r)
    _finish_imaging(r)
    if r.errors:
        _raise(name, r.errors)

    identifier = next((x.get("value") for x in claim.get("identifier") or [] if x.get("value")), None)
    case_id = str(identifier or claim.get("id") or (data.get("identifier") or {}).get("value")
                  or "fhir-bundle")
    summary = f"Imported from FHIR bundle {data.get('id') or name} ({r.label(ci)})."
    case = _assemble(r, case_id, summary, requests)
    provenance = {format_path(path): origin for path, origin in r.origins.items()
                  if path and isinstance(path[0], str) and path[0] != "span"}
    return Imported(name, case, r.warnings, data, claim, r.label(ci), str(created_text or ""),
                    claim_reader.items, claim_reader.item_codes, provenance)


def _raise(name: str, findings: list[Finding]) -> None:
    findings = sorted(findings, key=lambda f: (f.location.line, f.location.column) if f.location else (0, 0))
    count = len(findings)
    raise CaseError(f"{name}: invalid FHIR bundle ({count} problem{'s' * (count != 1)})", findings=findings)


def validate_case(imported: Imported, code_units: Mapping[str, str] | None = None):
    """Validate an imported case through `load_case` (and expand its lines when `code_units` is
    given); problems are reported against the FHIR resource and element that supplied the field."""
    from engine.cases import expand_lines, load_case

    try:
        case = load_case(f"{imported.name} (as warrant-case/1)", text=imported.case_text)
        lines = expand_lines(case, code_units) if code_units is not None else []
    except CaseError as exc:
        raise CaseError(f"{imported.name}: the bundle does not make a valid case",
                        findings=[_remap(imported, f) for f in exc.findings]) from None
    return case, lines


def _remap(imported: Imported, finding: Finding) -> Finding:
    path, sep, rest = finding.message.partition(": ")
    origin = imported.origin_of(path) if sep else None
    if origin is None:
        return Finding(finding.code, f"converted case: {finding.message}", Location(imported.name))
    return Finding(finding.code, f"{origin.describe()}: {rest} (case field {path})", origin.location)


# ---------------------------------------------------------------------------------- YAML output
def case_yaml(case: dict[str, Any], *, source: str = "") -> str:
    """The case as YAML text the case loader reads back unchanged (codes stay quoted strings)."""
    from engine.knowledge.yamlio import dump_yaml

    header = "# warrant-case/1 imported by `warrant import fhir`" + (f" from {source}" if source else "")
    return dump_yaml(case, header + "\n")
