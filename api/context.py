"""What every request handler shares: settings, the session factory, the catalog, the dispatcher,
the video models.

    ctx = AppContext.build(settings)          # create_app does this once
    with ctx.session() as db: ...             # one committed transaction
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.db import make_engine, session_scope
from api.dispatch import Dispatcher
from api.links import Links
from api.settings import ApiSettings
from api.video_models import VideoModel, video_models
from engine.catalog import Catalog


@dataclass(frozen=True)
class AppContext:
    settings: ApiSettings
    engine: Engine
    factory: sessionmaker[Session]
    catalog: Catalog
    dispatcher: Dispatcher
    links: Links
    video_models: list[VideoModel]

    @classmethod
    def build(cls, settings: ApiSettings) -> AppContext:
        engine = make_engine(settings.database_url)
        factory = sessionmaker(engine, expire_on_commit=False)
        return cls(settings=settings, engine=engine, factory=factory,
                   catalog=Catalog(settings.configs_dir), dispatcher=Dispatcher(settings),
                   links=Links.from_settings(settings), video_models=video_models(settings.configs_dir))

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.factory) as db:
            yield db


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]
