from setuptools import setup

setup(
    name="pl-topologicalcopy",
    version="1.0.2",
    description="A plugin ts app to copy filtered output dirs from a list of plugin instances",
    author="FNNDSC",
    author_email="dev@babyMRI.org",
    url="http://wiki",
    license="MIT",
    py_modules=["topologicalcopy"],
    install_requires=["chris-plugin==0.4.0"],
    entry_points={"console_scripts": ["topologicalcopy = topologicalcopy:cli"]},
    python_requires=">=3.11",
)
