"""Maps the three top-level folders into the ``convoport`` import package.

``core/`` is ``convoport``, ``adapters/`` is ``convoport.adapters`` and ``contracts/`` is
``convoport.contracts``; every subpackage below them (an adapter's folder, for instance) is found
here so that no package list has to be kept by hand. Everything else lives in pyproject.toml.
"""

from setuptools import find_packages, setup

ROOTS = {"convoport": "core", "convoport.adapters": "adapters", "convoport.contracts": "contracts"}

packages: list[str] = []
for name, folder in ROOTS.items():
    packages.append(name)
    packages.extend(f"{name}.{sub}" for sub in find_packages(folder))

setup(package_dir=ROOTS, packages=packages)
