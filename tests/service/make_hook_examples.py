"""Make the CDS Hooks examples in this folder from a PAS request bundle in tests/fhir/:
each Claim item becomes a draft ServiceRequest, the other resources the prefetch.

    python tests/service/make_hook_examples.py tests/fhir/fusion-met.bundle.json \
        tests/service/crd-order-sign-no-exam.json nsaid,exam order-sign
"""
import json, sys
src, out, drop, hookname = sys.argv[1], sys.argv[2], set(sys.argv[3].split(",")) if sys.argv[3] else set(), sys.argv[4]
b = json.load(open(src))
claim = [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Claim"][0]
others = [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] != "Claim" and e["resource"].get("id") not in drop]
pat = [r for r in others if r["resourceType"] == "Patient"][0]
srs = []
for it in claim["item"]:
    sr = {"resourceType": "ServiceRequest", "id": f"order-{it['sequence']}", "status": "draft", "intent": "order",
          "code": it["productOrService"], "subject": {"reference": f"Patient/{pat['id']}"},
          "requester": {"reference": "Practitioner/surgeon"}}
    if "bodySite" in it: sr["bodySite"] = [it["bodySite"]]
    pass
    srs.append(sr)
records = {}
for r in others:
    if r["resourceType"] == "Patient": continue
    records.setdefault(r["resourceType"], []).append(r)
prefetch = {"patient": pat}
names = {"Condition": "conditions", "Observation": "observations", "Procedure": "procedures", "DiagnosticReport": "reports",
         "ImagingStudy": "imaging", "Organization": "organizations", "Practitioner": "practitioners", "Coverage": "coverage",
         "MedicationStatement": "medications"}
for t, rs in records.items():
    prefetch[names.get(t, t.lower())] = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in rs]}
key = "draftOrders"
hook = {"hook": hookname, "hookInstance": f"example-{hookname}-{claim['id']}", "fhirServer": "http://ehr.example/fhir",
        "context": {"userId": "Practitioner/surgeon", "patientId": pat["id"],
                    key: {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": s} for s in srs]}},
        "prefetch": prefetch}
if hookname == "order-select":
    hook["context"]["selections"] = [f"ServiceRequest/{srs[0]['id']}"]
json.dump(hook, open(out, "w"), indent=1)
