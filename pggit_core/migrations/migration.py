"""`Migration`, what the generator returns: the plain value with its file texts and the seed's `write_to_file`."""

from __future__ import annotations

from pathlib import Path

from pydantic import PrivateAttr

from pggit_core.migrations import files, render
from pggit_core.migrations.files import FormatStyle, Recorder
from pggit_core.migrations.value import MigrationValue
from pggit_core.migrations.verify import verify_text


class Migration(MigrationValue):
    """A generated migration: up and down plans between two snapshots, their hazards and their files. Its
    methods only delegate: the texts to `render` and `verify`, the writing to `files.write_migration`."""

    # Set by the generator that made it: records the migration in its database when the files are written.
    # None for a migration built by hand (`write_to_file` then writes the files only).
    _recorder: Recorder | None = PrivateAttr(default=None)

    @property
    def up_sql(self) -> str:
        return render.up_text(self)

    @property
    def down_sql(self) -> str:
        return render.down_text(self)

    @property
    def verify_sql(self) -> str:
        return verify_text(self)

    def write_to_file(self, directory: Path | str,
                      format_style: FormatStyle | str = FormatStyle.plain) -> tuple[Path, ...]:
        """The seed's API: `files.write_migration` with the recorder of the generator that made this migration,
        so that the files and the record in `pggit.migrations` are written in one step. Returns the paths."""
        return files.write_migration(self, directory, format_style, self._recorder)
