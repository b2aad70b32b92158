"""The Questionnaire of a decision's missing documentation (PAS answers, DTR packages and
adaptive questions): one item per case field, `linkId` the field path, the question in words
from the case schema's descriptions, the answer type from the schema, the FHIR code from
kb/fhir-map.yaml where it has one."""
from __future__ import annotations

from typing import Any

from engine.fhir.mapping import FhirMap, load_map


def _schema_node(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Resolve $ref and drop the null branch of an optional field."""
    while True:
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
            continue
        if "anyOf" in node:
            branches = [b for b in node["anyOf"] if b.get("type") != "null"]
            if len(branches) == 1:
                node = branches[0]
                continue
            node = branches[0] if branches else {}
            continue
        return node


def _field_schema(schema: dict[str, Any], path: str) -> dict[str, Any] | None:
    node = schema
    tokens = path.split(".")
    t = 0
    while t < len(tokens):
        token = tokens[t]
        name, _, rest = token.partition("[")
        node = _schema_node(schema, node)
        if node.get("type") == "object" and "patternProperties" in node and "properties" not in node:
            node = next(iter(node["patternProperties"].values()))
        elif name == "*" and node.get("properties"):  # any key (a side, a test): all alike
            node = next(iter(node["properties"].values()))
        elif name in (node.get("properties") or {}):
            node = node["properties"][name]
        else:
            return None
        if rest:
            node = _schema_node(schema, node).get("items", {})
        t += 1
    return _schema_node(schema, node)


def _answer_item(m: FhirMap, schema: dict[str, Any], node: dict[str, Any], link: str,
                 text: str) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": link, "text": text}
    if node.get("type") == "array":
        inner = _schema_node(schema, node.get("items", {}))
        item.update(_answer_item(m, schema, inner, link, text))
        item["repeats"] = True
        return item
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        item["type"] = "group"
        item["item"] = [_answer_item(m, schema, _schema_node(schema, sub), f"{link}.{key}",
                                     sub.get("description") or key.replace("_", " "))
                        for key, sub in node.get("properties", {}).items()]
        return item
    if "enum" in node:
        item["type"] = "choice"
        item["answerOption"] = [{"valueCoding": {"system": m.system("value"), "code": word,
                                                 "display": word.replace("_", " ")}}
                                for word in node["enum"]]
        return item
    item["type"] = {"boolean": "boolean", "integer": "integer", "number": "decimal"}.get(kind, "string")
    return item


def question_text(schema: dict[str, Any], path: str, fallback: str) -> str:
    """The words of a question about a case field: the schema's description of the field (the
    kb's sentence when it has none), with the segment, side or request it concerns; never the
    field path itself, which stays in `linkId`."""
    where: list[str] = []
    container: dict[str, Any] = schema
    described = None
    for token in path.split("."):
        name, _, index = token.partition("[")
        index = index.rstrip("]")
        inner = _schema_node(schema, container)
        props = inner.get("properties") or {}
        if name in props:
            container = props[name]
            described = container.get("description")
            if index.isdigit():
                where.append(f"{name.rstrip('s').replace('_', ' ')} {int(index) + 1}")
            if "[" in token:
                container = _schema_node(schema, container).get("items", {})
                described = container.get("description") or described
        else:  # a key of a map (a segment, a side, any test): name it
            where.append("the requested side" if name == "*" else name)
            pattern = inner.get("patternProperties") or props
            container = next(iter(pattern.values()), {}) if pattern else {}
            described = container.get("description")
    if not described:
        return fallback
    text = described[:1].upper() + described[1:]
    return f"{text} ({', '.join(where)})" if where else text


def documentation_questionnaire(decision: dict[str, Any], qid: str, created: str, *,
                                seq_of_line: dict[str, Any] | None = None, fhir_map: FhirMap | None = None,
                                kb_root: Any = None, fields: list[str] | None = None,
                                case_schema: Any = None) -> dict[str, Any] | None:
    """A Questionnaire asking for a decision's missing documentation (or only `fields`),
    one item per case field; `seq_of_line` names the Claim items each answer would unblock.
    Questions follow `case_schema` (by default, the case schema of the kb at `kb_root`)."""
    m = fhir_map or load_map(kb_root)
    return _questionnaire(m, decision, None, [], qid, created, seq_of_line=seq_of_line or {}, fields=fields,
                          case_schema=case_schema, kb_root=kb_root)


def case_json_schema_of(case_schema: Any = None, kb_root: Any = None) -> dict[str, Any]:
    """The JSON Schema of a case schema, or of the case schema of the kb at `kb_root`."""
    from engine.cases import case_json_schema

    if case_schema is None:
        from engine.knowledge.base import KnowledgeBase

        case_schema = KnowledgeBase.load(kb_root).case_schema
    return case_json_schema(case_schema)


def _questionnaire(m: FhirMap, decision: dict[str, Any], imported: Any, lines: list[Any],
                   qid: str, created: str, *, seq_of_line: dict[str, Any] | None = None,
                   fields: list[str] | None = None, case_schema: Any = None,
                   kb_root: Any = None) -> dict[str, Any] | None:
    requests = decision.get("documentation_requests") or []
    if fields is not None:
        by_field = {e["field"]: e for e in requests}
        requests = [by_field.get(f, {"field": f, "item": f, "unblocks": []}) for f in fields]
    if not requests:
        return None
    schema = case_json_schema_of(case_schema, kb_root)
    if seq_of_line is None:
        seq_of_line = {ln.id: imported.items.get((ln.request, ln.procedure)) for ln in lines}
    items = []
    for entry in requests:
        path = entry["field"]
        seqs = sorted({seq_of_line[u] for u in entry.get("unblocks", []) if seq_of_line.get(u) is not None})
        affects = f" (needed to decide Claim item{'s' if len(seqs) != 1 else ''} " \
                  f"{', '.join(str(s) for s in seqs)})" if seqs else ""
        node = _field_schema(schema, path)
        item = _answer_item(m, schema, node or {"type": "string"}, path,
                            f"{question_text(schema, path, entry['item'])}{affects}")
        leaf = path.rsplit(".", 1)[-1].split("[", 1)[0]
        code = None if path.startswith("requests[") else m.field_code(leaf)
        if code:
            item = {"linkId": item.pop("linkId"), "code": [{"system": code[0], "code": code[1]}], **item}
        items.append(item)
    base = m.response["base_url"]
    case_id = decision.get("case_id", "")
    return {
        "resourceType": "Questionnaire",
        "id": qid,
        "url": f"{base}/Questionnaire/{qid}",
        "name": "WarrantDocumentationRequest",
        "title": f"Documentation needed to decide prior authorization {case_id}",
        "status": "active",
        "subjectType": ["Patient"],
        "date": created,
        "description": "Each item names one case field the determination could not be made "
                       "without; its linkId is that field's path in warrant-case/1.",
        "item": items,
    }
