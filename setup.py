"""The wheel's build step beyond pyproject.toml: configs/ ships inside the engine package.

    python -m build --wheel          # or: pip wheel . --no-deps

configs/ (profiles, personas, voices, jobs, templates, fonts, model release configurations)
sits beside the packages in the repository; a built wheel carries a copy as engine/configs,
where engine/locations.py looks when there is no checkout. Editable installs read the
repository's own configs/ and get no copy.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithConfigs(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            target = Path(self.build_lib) / "engine" / "configs"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(Path(__file__).parent / "configs", target)


setup(cmdclass={"build_py": BuildPyWithConfigs})
