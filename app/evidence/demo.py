"""Demo evidence: small generated PDF and CSV files on the completed OIG-15-85 milestones."""

from datetime import datetime, time, timedelta, timezone

import sqlalchemy as sa

from app import audit
from app.auth.models import User
from app.evidence.filetypes import CSV, PDF
from app.evidence.models import EvidenceItem, EvidenceReview, EvidenceVersion
from app.evidence.storage import get_storage
from app.extensions import db
from app.milestones.models import Milestone
from app.recommendations.models import LineOfEffort, Recommendation
from app.reports.models import Report


def _pdf_text(s: str) -> str:
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def minimal_pdf(lines: list[str]) -> bytes:
    """A one-page PDF in Helvetica with the given lines (ASCII), byte offsets computed by hand."""
    text = "BT /F1 12 Tf 72 720 Td 16 TL " + " ".join(f"({_pdf_text(line)}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


CHARTER = minimal_pdf(
    [
        "U.S. Department of Homeland Security - Office of Policy",
        "Charter: Prosecutorial Discretion Data Working Group",
        "",
        "Purpose: define, collect and report data on the Department's use of",
        "prosecutorial discretion (OIG-15-85, Recommendation 1).",
        "Members: ICE (ERO), CBP (USBP), USCIS, Office of Immigration Statistics, PLCY.",
        "Meets monthly; reports quarterly to the Deputy Secretary.",
        "Signed: Assistant Secretary for Policy",
    ]
)
STANDARD = minimal_pdf(
    [
        "DHS Prosecutorial Discretion Data Standard, version 1.0",
        "",
        "A prosecutorial discretion decision record contains: person identifier,",
        "component, decision date, decision type, basis for discretion,",
        "release reason (including non-cooperating home country), DACA referral,",
        "and the USCIS decision where one exists.",
    ]
)
INVENTORY = (
    "system,component,records_prosecutorial_discretion,basis_field,person_identifier\r\n"
    "EARM,ICE,yes,free text,A-number\r\n"
    "ENFORCE/e3,CBP,partial,none,FIN\r\n"
    "CLAIMS 3,USCIS,no,none,A-number\r\n"
).encode()

#: (start of the milestone title, title, description, file name, type, content, review or None)
DEMO_EVIDENCE = [
    (
        "Charter the Prosecutorial",
        "Signed working group charter",
        "The charter signed by the Assistant Secretary for Policy, with the member list.",
        "PD-working-group-charter.pdf",
        PDF,
        CHARTER,
        ("accepted", "Charter signed and members named from every component. Accepted."),
    ),
    (
        "Issue a Department-wide data standard",
        "Data standard, version 1.0",
        "The published standard defining a prosecutorial discretion decision record.",
        "PD-data-standard-v1.0.pdf",
        PDF,
        STANDARD,
        None,
    ),
    (
        "Inventory component systems",
        "System inventory",
        "Which component systems record prosecutorial discretion decisions, and how.",
        "system-inventory.csv",
        CSV,
        INVENTORY,
        (
            "insufficient",
            "The inventory lists CLAIMS 3 but not ELIS, which now records most USCIS "
            "decisions. Please add it and upload a new version.",
        ),
    ),
]


def seed_evidence(on) -> None:
    """Attach the demo files once; a second run finds them and changes nothing."""
    recommendation = db.session.scalar(
        sa.select(Recommendation)
        .join(Recommendation.report)
        .where(Report.number == "OIG-15-85", Recommendation.number == "1")
    )
    if recommendation is None or db.session.scalar(
        sa.select(EvidenceItem.id).where(EvidenceItem.recommendation_id == recommendation.id).limit(1)
    ):
        return
    uploader = db.session.scalar(sa.select(User).where(User.email == "policy@example.gov"))
    reviewer = db.session.scalar(sa.select(User).where(User.email == "oig@example.gov"))
    assert uploader is not None and reviewer is not None  # the demo users come first
    milestones = db.session.scalars(
        sa.select(Milestone)
        .join(Milestone.line_of_effort)
        .where(LineOfEffort.recommendation_id == recommendation.id, Milestone.status == "completed")
    ).all()
    storage = get_storage()
    for prefix, title, description, filename, content_type, content, review in DEMO_EVIDENCE:
        milestone = next((m for m in milestones if m.title.startswith(prefix)), None)
        if milestone is None:
            continue
        day = milestone.completed_on or on
        uploaded_at = datetime.combine(day, time(15, 0), tzinfo=timezone.utc)
        incoming = storage.incoming()
        incoming.write(content)
        stored = storage.save(incoming)
        item = EvidenceItem(
            recommendation_id=recommendation.id,
            milestone_id=milestone.id,
            title=title,
            description=description,
            created_by_id=uploader.id,
            created_at=uploaded_at,
            review_status="pending",
        )
        version = EvidenceVersion(
            item=item,
            number=1,
            storage_key=stored.key,
            original_filename=filename,
            content_type=content_type,
            size_bytes=stored.size,
            sha256=stored.sha256,
            uploaded_by_id=uploader.id,
            uploaded_at=uploaded_at,
        )
        db.session.add_all([item, version])
        db.session.flush()
        audit.record(
            "evidence.upload",
            item,
            actor=uploader,
            recommendation_id=recommendation.id,
            after={"title": title, "filename": filename, "sha256": stored.sha256, "version": 1},
        )
        if review:
            decision, comment = review
            item.review_status = decision
            db.session.add(
                EvidenceReview(
                    item_id=item.id,
                    version_id=version.id,
                    decision=decision,
                    comment=comment,
                    reviewer_id=reviewer.id,
                    reviewed_at=uploaded_at + timedelta(days=2),
                )
            )
            db.session.flush()
            audit.record(
                "evidence.review",
                item,
                actor=reviewer,
                recommendation_id=recommendation.id,
                after={"review_status": decision, "version": 1, "comment": comment},
            )
