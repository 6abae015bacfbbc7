from django.db import models


class PACS(models.Model):
    identifier = models.CharField(max_length=20, unique=True)

    class Meta:
        ordering = ("identifier",)
        verbose_name = "PACS"
        verbose_name_plural = "PACS"

    def __str__(self) -> str:
        return self.identifier


class PatientSex(models.TextChoices):
    MALE = "M"
    FEMALE = "F"
    OTHER = "O"


class PACSFile(models.Model):
    """A DICOM file already in storage under ``SERVICES/PACS/<pacs>/``."""

    creation_date = models.DateTimeField(auto_now_add=True)
    fname = models.CharField(max_length=1024, unique=True)
    # Read once from storage at registration; listings never ask storage again.
    fsize = models.BigIntegerField()
    PatientID = models.CharField(max_length=100, db_index=True)
    PatientName = models.CharField(max_length=150, blank=True)
    PatientBirthDate = models.DateField(null=True, blank=True)
    PatientAge = models.IntegerField(null=True, blank=True)
    PatientSex = models.CharField(max_length=2, choices=PatientSex.choices, blank=True)
    StudyDate = models.DateField(db_index=True)
    AccessionNumber = models.CharField(max_length=100, blank=True, db_index=True)
    Modality = models.CharField(max_length=15, blank=True)
    ProtocolName = models.CharField(max_length=64, blank=True)
    StudyInstanceUID = models.CharField(max_length=100)
    StudyDescription = models.CharField(max_length=400, blank=True)
    SeriesInstanceUID = models.CharField(max_length=100)
    SeriesDescription = models.CharField(max_length=400, blank=True)
    pacs = models.ForeignKey(PACS, on_delete=models.CASCADE, related_name="files")

    class Meta:
        ordering = ("-fname",)
        verbose_name = "PACS file"

    def __str__(self) -> str:
        return self.fname
