"""pl-med2img: DICOM or NIfTI slices to PNG/JPEG images.

A ChRIS ``ds`` plugin around the PyPI library ``med2image`` (2.2.10), which does all the work:
it picks the input file at the top of the input folder (``-i`` or ``--inputFileSubStr``),
chooses a DICOM or NIfTI converter from its extension and writes the images into the output
folder. The plugin is described through ``chrisapp``, whose ``--json`` is the representation
CUBE registers; its parameters are those of pl-med2img 1.1.12.
"""

import sys
import sysconfig
from argparse import Namespace

from chrisapp.base import ChrisApp

__version__ = "1.1.12"

# (flags, dest, type, default, help), in the descriptor's order.
PARAMETERS: list[tuple[tuple[str, ...], str, type, object, str]] = [
    (("-i", "--inputFile"), "inputFile", str, "", "name of the input file within the inputDir"),
    (
        ("--inputFileSubStr",),
        "inputFileSubStr",
        str,
        "",
        "input file substring to tag a file in the inputDir",
    ),
    (
        ("-o", "--outputFileStem"),
        "outputFileStem",
        str,
        "sample",
        "output file stem name (with optional extension)",
    ),
    (("-t", "--outputFileType"), "outputFileType", str, "", "output image file format"),
    (("-s", "--sliceToConvert"), "sliceToConvert", str, "-1", "slice to convert (for 3D data)"),
    (("-f", "--frameToConvert"), "frameToConvert", str, "-1", "frame to convert (for 4D data)"),
    (("--printElapsedTime",), "printElapsedTime", bool, False, "print program run time"),
    (
        ("-r", "--reslice"),
        "reslice",
        bool,
        False,
        "save images along i, j, k direction -- 3D input only",
    ),
    (("--showSlices",), "showSlices", bool, False, "show slices that are converted"),
    (
        ("--func",),
        "func",
        str,
        "",
        "apply the specified transformation function before saving",
    ),
    (("-y", "--synopsis"), "synopsis", bool, False, "short synopsis"),
    (
        ("--convertOnlySingleDICOM",),
        "convertOnlySingleDICOM",
        bool,
        False,
        "if specified, only convert the specific input DICOM",
    ),
]

# What med2image's converter factory reads from its argument namespace, besides the folders.
CONVERTER_OPTIONS = (
    "inputFile",
    "inputFileSubStr",
    "outputFileStem",
    "outputFileType",
    "sliceToConvert",
    "frameToConvert",
    "showSlices",
    "reslice",
    "convertOnlySingleDICOM",
)

SYNOPSIS = f"""\
med2img {__version__} (pl-med2img)
    med2img (-i FILE | --inputFileSubStr TEXT) [-o STEM[.TYPE]] [-t TYPE]
            [-s SLICE|m] [-f FRAME|m] [-r] [--func invertIntensities]
            [--convertOnlySingleDICOM] [--printElapsedTime] inputdir outputdir
"""

MAN_PAGE = f"""\
{SYNOPSIS}
    Converts one file at the top of inputdir (named by -i, or the first whose name holds
    --inputFileSubStr) to images in outputdir. A .dcm file selects the DICOM converter, which
    stacks every *.dcm file of inputdir in name order; .nii or .gz selects the NIfTI one.

    -o STEM     image file stem (default "sample"); an extension gives the type. A stem
                starting with % is built from DICOM tags, e.g. %PatientID%ProtocolName.
    -t TYPE     image type (png, jpg, ...); default: the stem's extension, else png.
    -s SLICE    convert only this 0-based slice, or m for the middle one; -1 for all,
                written as STEM-sliceNNN.TYPE.
    -f FRAME    the same for the frames of 4D data.
    -r          also write x/, y/ and z/ folders of slices along each axis.
    --func invertIntensities
                invert each slice's intensities before saving.
    --convertOnlySingleDICOM
                convert only the -i file, to STEM.TYPE.

    -y/--synopsis prints the synopsis above and exits 1. The work is done by the PyPI
    library med2image.
"""


class Med2Img(ChrisApp):
    """DICOM or NIfTI slices to PNG/JPEG images."""

    TYPE = "ds"
    TITLE = "A ChRIS plugin app"
    CATEGORY = ""
    DESCRIPTION = (
        "An app to convert medical MRI image data like DICOMs and NIFTI to more standard image "
        "formats like PNG/JPG"
    )
    AUTHORS = "Arushi Vyas <dev@babyMRI.org>"
    DOCUMENTATION = "https://github.com/FNNDSC/pl-med2img"
    LICENSE = "MIT"
    VERSION = __version__
    ICON = ""
    SELFEXEC = "med2img"
    SELFPATH = sysconfig.get_path("scripts")
    EXECSHELL = sys.executable
    OUTPUT_META_DICT: dict = {}

    def define_parameters(self) -> None:
        for flags, dest, kind, default, text in PARAMETERS:
            self.add_argument(
                *flags, dest=dest, type=kind, optional=True, default=default, help=text
            )

    def show_man_page(self) -> None:
        print(MAN_PAGE)

    def run(self, options: Namespace) -> None:
        print(f"pl-med2img {__version__}", flush=True)
        for flags, dest, *_ in PARAMETERS:
            print(f"  {flags[-1]} = {getattr(options, dest)!r}", flush=True)
        if options.synopsis:
            # pl-med2img 1.1.12 exits 1 here, converting nothing.
            print(SYNOPSIS)
            raise SystemExit(1)

        # Imported here: --json and --version need none of matplotlib, pydicom and the rest.
        from med2image import med2image

        request = Namespace(
            inputDir=options.inputdir,
            outputDir=options.outputdir,
            **{name: getattr(options, name) for name in CONVERTER_OPTIONS},
        )
        # The factory exits 1 itself when --inputFileSubStr matches no file.
        factory = med2image.object_factoryCreate(request)
        converter = getattr(factory, "C_convert", None)
        if converter is None:
            # No input file, or one that is neither DICOM nor NIfTI: nothing to convert.
            what = request.inputFile or "no input file (give -i or --inputFileSubStr)"
            print(f"error: {what}: med2image converts .dcm, .nii and .gz files", file=sys.stderr)
            raise SystemExit(1)
        # The factory does not pass the transformation on.
        converter.func = options.func
        converter.tic()
        converter.run()
        if options.printElapsedTime:
            print(f"Elapsed time = {converter.toc():f} seconds")


def main() -> None:
    Med2Img().launch()


if __name__ == "__main__":
    main()
