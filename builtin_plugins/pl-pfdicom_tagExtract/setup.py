from setuptools import setup

setup(
    name="dcm_tagExtract",
    version="3.2.4",
    description="ChRIS plugin pl-pfdicom_tagExtract: DICOM header reports over an input tree",
    author="FNNDSC",
    author_email="dev@babyMRI.org",
    url="https://github.com/FNNDSC/pl-pfdicom_tagExtract",
    license="MIT",
    py_modules=["tag_extract"],
    # pftree 4 cannot be imported as pfdicom does it, and pydicom 3 has no read_file.
    install_requires=[
        "chrisapp==2.4.0",
        "pfdicom_tagExtract==3.1.0",
        "pftree>=3.2.32,<4",
        "pydicom<3",
    ],
    entry_points={"console_scripts": ["dcm_tagExtract = tag_extract:main"]},
    python_requires=">=3.11",
)
