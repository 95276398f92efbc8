"""The lab API's request and response bodies as pydantic models: they validate requests and make the OpenAPI."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
)

from intake.models import CustodyEventType, CustodyState, Role, SampleSource, Sex

Allele = StrictStr | StrictInt | StrictFloat
# Free text a lab sends (staff ids, reasons, kit names) is one line of printable characters: a NUL or another
# control character is refused here, with a 422 and a reason, before any database sees it.
PlainText = Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f]*$")]
MarkerName = Annotated[PlainText, Field(min_length=1, max_length=40)]
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# What an upload of a profile or a Y haplotype did (absent when the stored one is read back).
UploadOutcome = Annotated[
    Literal["created", "unchanged", "replaced"] | None, Field(description="What the upload did.")
]


def _real_time(value: datetime) -> datetime:
    # 0001-01-01T00:00:00+14:00 is a valid ISO 8601 string but no instant in UTC (it overflows): refused here.
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is not a real instant (it cannot be converted to UTC)") from None
    if utc < EARLIEST:
        raise ValueError("a custody event is not before the year 2000")
    return value


EventTime = Annotated[AwareDatetime, AfterValidator(_real_time)]
SAMPLE_CODE = "A sample code such as K7QX-M2PD (the last character is a check character)."


class Strict(BaseModel):
    """A request body: unknown fields are refused, so a typo is not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    code: str = Field(description="A stable machine-readable reason, such as unknown_marker or other_lab.")
    message: str = Field(description="What to change, in English or, with Accept-Language: zh, in Chinese.")


class ErrorOut(BaseModel):
    """Every refusal: a 4xx with a reason."""

    error: ErrorDetail


class WalkInIn(Strict):
    """A sample taken at the lab from a person who walked in."""

    source: SampleSource
    role: Role = Field(
        description=(
            "The person's relationship to the child. A missing child's family (sources confirmed_missing_parent and "
            "reporting_parent): mother, father, full_sibling, and relatives with their side of the family, so that "
            "the matcher places them in one pedigree with the child: paternal_grandfather, paternal_grandmother, "
            "maternal_grandfather, maternal_grandmother, paternal_aunt_uncle, maternal_aunt_uncle, "
            "paternal_half_sibling, maternal_half_sibling. The older grandparent, aunt_uncle, half_sibling and "
            "other_relative name no side: still accepted, each scored on its own against a child, outside the "
            "family's pedigree. A found child: child; a suspected kidnapped child's adults: claimed_mother, "
            "claimed_father."
        )
    )
    sex: Sex
    case: PlainText | None = Field(
        None, max_length=24, description="The case reference (MC-2026-... or FC-2026-...), if known."
    )
    by: PlainText | None = Field(
        None, max_length=120, description="Who took the sample (the lab's own staff id)."
    )


class WalkInOut(BaseModel):
    code: str = Field(description="The sample code to write on the tube.")
    link_code: str = Field(description="A one-time code for the person: they text LINK and this code.")


class EventIn(Strict):
    """A custody event: collected, received or destroyed; transferred hands the sample to another lab."""

    type: Literal["collected", "received", "destroyed", "transferred"]
    at: EventTime | None = Field(None, description="When it happened (ISO 8601 with offset); default now.")
    by: PlainText | None = Field(None, max_length=120, description="Who did it (the lab's own staff id).")
    to_lab: StrictInt | None = Field(
        None, ge=1, le=2**31 - 1, description="For transferred: the lab taking custody."
    )
    reason: PlainText | None = Field(None, max_length=500)


class EventOut(BaseModel):
    type: CustodyEventType
    at: datetime
    recorded_at: datetime
    lab: int | None
    to_lab: int | None
    by: str | None
    reason: str | None
    profile: str | None


class ProfileIn(Strict):
    """A typed STR profile: any common marker spelling; a homozygote as one allele or two."""

    kit: PlainText = Field(
        min_length=1, max_length=64, description="The typing kit, e.g. Identifiler or Huaxia Platinum."
    )
    genotypes: dict[MarkerName, Annotated[list[Allele], Field(max_length=10)]] = Field(
        max_length=100, description='{"D3S1358": ["15", "16"], "AMEL": ["X", "Y"]}'
    )
    replace: StrictBool = Field(
        False, description="Replace a different profile stored before (needs a reason)."
    )
    reason: PlainText | None = Field(
        None, max_length=500, description="Why the profile is replaced; kept in custody."
    )


class ProfileOut(BaseModel):
    profile: str = Field(description="The profile's opaque id.")
    sample: str
    kit: str
    markers: int = Field(description="How many autosomal STR markers are stored.")
    outcome: UploadOutcome = None
    genotypes: dict[str, list[str]]
    notices: list[ErrorDetail] = Field(
        default_factory=list,
        description="What to check about a profile stored anyway, such as sex_mismatch (Amelogenin against the "
        "sex on record: held out of the search until resolved).",
    )


class SampleOut(BaseModel):
    """A sample as its lab sees it: no names, no phone numbers."""

    code: str
    source: SampleSource
    sex: Sex
    state: CustodyState
    lab: int | None = Field(description="The lab holding the sample.")
    linked: bool = Field(description="Whether the sample belongs to a person of a case.")
    events: list[EventOut]
    profile: ProfileOut | None = Field(description="The current profile, if your lab typed it.")


class ImportQuery(Strict):
    kit: PlainText | None = Field(
        None, max_length=64, description="The kit typed (panel names are the lab's own)."
    )


class ImportSample(BaseModel):
    name: str
    kind: Literal["sample", "ladder", "positive_control", "negative_control", "unknown"]
    status: Literal["stored", "unchanged", "refused", "skipped"]
    code: str | None
    profile: str | None
    markers: int | None
    left_out: list[str] = Field(description="Markers left out for an off-ladder (OL) call.")
    reason: str | None
    message: str | None
    notices: list[ErrorDetail] = Field(
        default_factory=list, description="What to check about a stored sample."
    )


class ImportOut(BaseModel):
    stored: int
    unchanged: int
    refused: int
    skipped: int
    samples: list[ImportSample]
