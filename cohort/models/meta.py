"""Facts about the database itself (is it the demo database?)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cohort.db import Model


class InstanceMeta(Model):
    __tablename__ = "instance_meta"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))
