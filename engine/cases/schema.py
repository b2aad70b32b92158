"""The warrant-case/1 shape as pydantic models: what keys exist, which are required, which nest.

Every finding is optional and defaults to None, so a key that is missing or null means "not
documented", while `false`, `0`, `none` and `[]` stay values ("documented absent"). Unknown keys
are errors at every depth. Models build lazily (`defer_build`) on the first case read.

These models are the one definition of the format. `shapegen.py` derives the table in
`shape.py` from them, which the fast loader walks to read valid cases without importing
pydantic; edit the models here, then run `python -m engine.cases.shapegen`.
"""
from typing import TYPE_CHECKING, Annotated, Any, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr

from engine.cases.fields import (Code, Date, Flag, FormatTag, LevelSpec, Name, SegmentName,
                                SegmentOrVertebra, SegmentRange, Text, VertebraName, choice,
                                number)
from engine.cases.record import CaseMethods
from engine.cases.values import FORMAT, flatten

if TYPE_CHECKING:
    from engine.cases.positions import Source  # noqa: F401

__all__ = ["FORMAT", "Case"]

Sex = choice("female", "male", "other", "unknown")
Smoking = choice("never", "former", "current")
RedFlag = choice("cauda_equina", "progressive_neurological_deficit", "myelopathy", "tumor",
                 "infection", "fracture")
Modality = choice("mri", "ct", "ct_myelogram", "xray", "flexion_extension_xray",
                  "standing_long_cassette")
HardwareFinding = choice("rod_fracture", "screw_fracture", "loosening", "pullout",
                         "cage_subsidence")
Side = choice("left", "right", "bilateral")
Outcome = choice("failed", "improved", "ongoing")
Setting = choice("inpatient", "outpatient")
Grade = choice("none", "mild", "mild_moderate", "moderate", "moderate_severe", "severe")
TestResult = choice("positive", "negative")

Weeks = number(0)
Months = number(0)
Percent = number(0, 100)
Magnitude = number(0)
Signed = number()
Age = number(0, 130, whole=True)
Year = number(1900, 2100, whole=True)
SlipGrade = number(0, 5, whole=True)
StageNumber = number(1, whole=True)
Days = number(0, whole=True)

Segments = Annotated[list[SegmentRange], AfterValidator(flatten)]


def _opt(description: str) -> Any:
    return Field(None, description=description)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class Patient(_Model):
    """Who the patient is, as far as the policy cares."""

    age: Optional[Age] = _opt("age in years")
    sex: Optional[Sex] = _opt("administrative sex")
    smoking: Optional[Smoking] = _opt("tobacco use")
    red_flags: Optional[list[RedFlag]] = _opt(
        "urgent findings; [] records that none are present")
    comorbidities: Optional[list[Text]] = _opt("other conditions, free text")


class Symptoms(_Model):
    """What the patient reports."""

    neurogenic_claudication: Optional[Flag] = _opt("leg symptoms on walking or standing")
    radiculopathy: Optional[Flag] = _opt("radiating nerve-root pain or deficit")
    axial_back_pain: Optional[Flag] = _opt("back pain")
    duration_months: Optional[Months] = _opt("how long the symptoms have lasted")
    adl_limited: Optional[Flag] = _opt("daily activities are limited")


class Exam(_Model):
    """What the examining clinician found."""

    correlates_with_imaging: Optional[Flag] = _opt("the exam matches the imaging findings")
    deformity_correlates_with_symptoms: Optional[Flag] = _opt(
        "the deformity explains the complaints")
    motor_deficit: Optional[Flag] = _opt("objective weakness")


class ConservativeCare(_Model):
    """Non-operative treatment tried before surgery."""

    physical_therapy_weeks: Optional[Weeks] = _opt("weeks of physical therapy")
    duration_weeks: Optional[Weeks] = _opt("weeks of conservative care in total")
    outcome: Optional[Outcome] = _opt("how the conservative care ended")
    modalities: Optional[list[Text]] = _opt("treatments tried, free text")


class PriorFusion(_Model):
    """An earlier fusion operation."""

    levels: Optional[Segments] = _opt("fused motion segments; a range such as L2-L4 expands")
    instrumented: Optional[Flag] = _opt("whether hardware was placed")
    year: Optional[Year] = _opt("year of the operation")


class HardwareFailure(_Model):
    """A failure of implanted hardware."""

    finding: Optional[HardwareFinding] = _opt("what failed")
    level: Optional[SegmentOrVertebra] = _opt("where: a segment (L5-S1) or a vertebra (S1)")


class History(_Model):
    """Earlier spine surgery."""

    prior_fusions: Optional[list[PriorFusion]] = _opt("earlier fusions; [] records none")
    hardware_failure: Optional[list[HardwareFailure]] = _opt(
        "hardware failures; [] records that none was found")


class SegmentFindings(_Model):
    """Imaging findings at one motion segment."""

    central_stenosis: Optional[Grade] = _opt("central canal narrowing")
    lateral_recess_stenosis: Optional[Grade] = _opt("lateral recess narrowing")
    foraminal_stenosis: Optional[Grade] = _opt("foraminal narrowing")
    neural_compression: Optional[Flag] = _opt("a nerve root or the cauda equina is compressed")
    spondylolisthesis_grade: Optional[SlipGrade] = _opt(
        "Meyerding slip grade, 0 for no slip")
    translation_mm: Optional[Magnitude] = _opt("motion on flexion-extension films, in mm")
    angulation_deg: Optional[Magnitude] = _opt("angular motion on flexion-extension films, in degrees")
    pseudarthrosis: Optional[Flag] = _opt("a previous fusion has not healed")


class Alignment(_Model):
    """Whole-spine alignment from standing long-cassette films."""

    coronal_cobb_deg: Optional[Magnitude] = _opt("coronal Cobb angle in degrees")
    sagittal_vertical_axis_cm: Optional[Signed] = _opt("sagittal vertical axis in cm (signed)")
    pi_ll_mismatch_deg: Optional[Signed] = _opt(
        "pelvic incidence minus lumbar lordosis in degrees (signed)")


class Imaging(_Model):
    """One imaging study."""

    id: Optional[Text] = _opt("a name for the study, unique within the case")
    modality: Optional[Modality] = _opt("kind of study (for information: criteria read findings)")
    date: Optional[Date] = _opt("when the study was done")
    segments: Optional[dict[SegmentName, SegmentFindings]] = _opt(
        "findings keyed by motion segment (L4-5)")
    alignment: Optional[Alignment] = _opt("standing alignment measures")


class ProvocativeTests(_Model):
    """Sacroiliac provocation tests on one side."""

    distraction: Optional[TestResult] = None
    thigh_thrust: Optional[TestResult] = None
    compression: Optional[TestResult] = None
    faber: Optional[TestResult] = None
    gaenslen: Optional[TestResult] = None


class Injection(_Model):
    """One diagnostic sacroiliac injection."""

    relief_percent: Optional[Percent] = _opt("pain relief after the injection, 0-100")
    image_guided: Optional[Flag] = _opt("placed under imaging guidance")


class SiSide(_Model):
    """Sacroiliac-joint work-up on one side."""

    pain_below_l5: Optional[Flag] = _opt("pain located below L5")
    provocative_tests: Optional[ProvocativeTests] = _opt("provocation test results")
    diagnostic_injections: Optional[list[Injection]] = _opt("diagnostic injections; [] records none")
    conservative_care_months: Optional[Months] = _opt("months of SI-joint-directed care")


class SiJoint(_Model):
    """Sacroiliac-joint work-up per side."""

    left: Optional[SiSide] = None
    right: Optional[SiSide] = None


class Procedure(_Model):
    """One requested CPT code with its levels or side."""

    code: Code = Field(description="CPT code as text, e.g. \"22633\"")
    levels: Optional[list[LevelSpec]] = _opt(
        "levels as written, normalised: segments (L4-5), vertebrae (L3) or ranges (L2-L4)")
    side: Optional[Side] = _opt("side; bilateral gives one line per side for per-side codes")
    span: Optional[Annotated[list[VertebraName], Field(min_length=2, max_length=2)]] = _opt(
        "first and last instrumented vertebra, e.g. [L3, L5]")
    facet_resection_percent: Optional[Percent] = _opt("planned facet removal, percent")


class Request(_Model):
    """The procedures requested for one operative stage."""

    stage: StageNumber = Field(description="stage number, unique within the case")
    setting: Optional[Setting] = _opt("inpatient or outpatient")
    length_of_stay_days: Optional[Days] = _opt("requested nights in hospital")
    procedures: Annotated[list[Procedure], Field(min_length=1)] = Field(
        description="the requested codes")


class Case(CaseMethods, _Model):
    """A validated warrant-case/1 file. `locate(path)` gives a field's position in the source."""

    model_config = ConfigDict(title="warrant-case/1")

    format: FormatTag = Field(description=f"always {FORMAT!r}")
    case_id: Name = Field(description="identifier of the case")
    summary: Optional[Text] = _opt("free-text summary")
    patient: Optional[Patient] = None
    symptoms: Optional[Symptoms] = None
    exam: Optional[Exam] = None
    conservative_care: Optional[ConservativeCare] = None
    history: Optional[History] = None
    imaging: Optional[list[Imaging]] = _opt("imaging studies")
    si_joint: Optional[SiJoint] = None
    requests: Annotated[list[Request], Field(min_length=1)] = Field(
        description="what is requested, one entry per operative stage")

    _source: Optional["Source"] = PrivateAttr(default=None)
