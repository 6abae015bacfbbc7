import os

from setuptools import setup

# CUBE's clients expect more than one version of this plugin: the install script builds the
# others from these same sources with PLUGIN_VERSION.

setup(
    name="pl-dircopy",
    version=os.environ.get("PLUGIN_VERSION", "2.1.1"),
    description="A plugin fs app to copy one or more obj storage directories",
    author="FNNDSC",
    author_email="dev@babyMRI.org",
    url="https://github.com/FNNDSC/pl-dircopy",
    license="MIT",
    py_modules=["dircopy"],
    install_requires=["chris-plugin==0.4.0"],
    entry_points={"console_scripts": ["dircopy = dircopy:main"]},
    python_requires=">=3.11",
)
