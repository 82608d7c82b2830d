import sqlalchemy as sa

from app import audit
from app.comments.models import Comment
from app.extensions import db
from app.notifications import services as notify


def for_recommendation(recommendation_id: int) -> list[Comment]:
    """The conversation, oldest first, as it was written."""
    return list(
        db.session.scalars(
            sa.select(Comment).where(Comment.recommendation_id == recommendation_id).order_by(Comment.id)
        )
    )


def add_comment(recommendation, body: str, author) -> Comment:
    comment = Comment(recommendation_id=recommendation.id, author_id=author.id, body=body.strip())
    db.session.add(comment)
    db.session.flush()
    audit.record(
        "comment.create", comment, after={"body": comment.body}, recommendation_id=recommendation.id, actor=author
    )
    notify.comment_posted(comment, recommendation, author)
    return comment
