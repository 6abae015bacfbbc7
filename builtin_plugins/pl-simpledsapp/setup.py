from setuptools import setup

setup(
    name="pl-simpledsapp",
    version="2.1.3",
    description="A simple ChRIS ds app demo",
    author="FNNDSC",
    author_email="dev@babyMRI.org",
    url="http://wiki",
    license="MIT",
    py_modules=["simpledsapp"],
    install_requires=["chris-plugin==0.4.0"],
    entry_points={"console_scripts": ["simpledsapp = simpledsapp:main"]},
    python_requires=">=3.11",
)
