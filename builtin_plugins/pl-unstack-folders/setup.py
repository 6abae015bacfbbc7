from setuptools import setup

setup(
    name="pl-unstack-folders",
    version="1.0.0",
    description="Copy deeply nested files to the base level",
    author="FNNDSC",
    author_email="dev@babyMRI.org",
    url="https://github.com/FNNDSC/pl-unstack-folders",
    license="MIT",
    py_modules=["unstack"],
    install_requires=["chris-plugin==0.4.0"],
    entry_points={"console_scripts": ["unstack = unstack:main"]},
    python_requires=">=3.11",
)
