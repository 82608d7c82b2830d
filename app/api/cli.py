"""``flask --app wsgi tokens create --email E --scope read|write``: prints a new token once."""

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app import audit
from app.api.models import TOKEN_SCOPES, ApiToken
from app.auth.models import User
from app.extensions import db

tokens_cli = AppGroup("tokens", help="Personal access tokens for the API.")


@tokens_cli.command("create")
@click.option("--email", required=True)
@click.option("--scope", required=True, type=click.Choice(TOKEN_SCOPES))
@click.option("--name", default="command line", help="What the token is for.")
def create_token(email, scope, name):
    """Create a token for a user and print it; it is shown this once and stored only as a hash."""
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    if user is None or not user.is_active:
        raise click.ClickException(f"no active user with email {email}")
    token, secret = ApiToken.issue(user, scope, name)
    db.session.flush()
    audit.record(
        "api_token.create", token, after={"name": token.name, "scope": scope, "via": "cli", "user": user.email}
    )
    db.session.commit()
    click.echo(secret)
