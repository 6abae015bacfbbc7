from setuptools import setup

setup(
    name="pl-tsdircopy",
    version="1.2.1",
    description="A plugin ts app to efficiently copy one or more obj storage directories",
    author="FNNDSC",
    author_email="dev@babyMRI.org",
    url="http://wiki",
    license="MIT",
    py_modules=["tsdircopy"],
    install_requires=["chris-plugin==0.4.0"],
    entry_points={"console_scripts": ["tsdircopy = tsdircopy:cli"]},
    python_requires=">=3.11",
)
