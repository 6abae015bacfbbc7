from setuptools import setup

setup(
    name="pl-simplefsapp",
    version="1.0.1",
    description="A simple ChRIS fs app demo",
    author="FNNDSC",
    author_email="dev@babyMRI.org",
    url="http://wiki",
    license="MIT",
    py_modules=["simplefsapp"],
    install_requires=["chris-plugin==0.4.0"],
    entry_points={"console_scripts": ["simplefsapp = simplefsapp:main"]},
    python_requires=">=3.11",
)
