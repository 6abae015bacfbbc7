from setuptools import setup

setup(
    name="med2img",
    version="1.1.12",
    description="ChRIS plugin pl-med2img: DICOM or NIfTI slices to PNG/JPEG images",
    author="FNNDSC",
    author_email="dev@babyMRI.org",
    url="https://github.com/FNNDSC/pl-med2img",
    license="MIT",
    py_modules=["med2img"],
    # pydicom 3 has no read_file, which med2image calls.
    install_requires=["chrisapp==2.4.0", "med2image==2.2.10", "pydicom<3"],
    entry_points={"console_scripts": ["med2img = med2img:main"]},
    python_requires=">=3.11",
)
