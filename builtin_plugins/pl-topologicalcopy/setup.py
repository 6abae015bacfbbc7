import os

from setuptools import setup

# CUBE's clients expect more than one version of this plugin: the install script builds the
# others from these same sources with PLUGIN_VERSION.

setup(
    name="pl-topologicalcopy",
    version=os.environ.get("PLUGIN_VERSION", "1.0.12"),
    description="A plugin ts app to copy filtered output dirs from a list of plugin instances",
    author="FNNDSC",
    author_email="dev@babyMRI.org",
    url="https://github.com/FNNDSC/pl-topologicalcopy#readme",
    license="MIT",
    py_modules=["topologicalcopy"],
    install_requires=["chris-plugin==0.4.0"],
    entry_points={"console_scripts": ["topologicalcopy = topologicalcopy:cli"]},
    python_requires=">=3.11",
)
