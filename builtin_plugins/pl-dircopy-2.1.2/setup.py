from setuptools import setup

setup(
    name="pl-dircopy",
    version="2.1.2",
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
