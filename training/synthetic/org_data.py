"""Static seed lists of the synthetic organisation's units (domain.md section 1): echelon I
units and their echelon II units, technical units (UPT) and provincial manpower offices.

Plain data only. Where a fact is uncertain in the domain reference, the choice here is an
assumption [A].
"""

from __future__ import annotations

from typing import Final

#: Echelon I units: code, name, kind of their echelon II units, echelon II names.
ECHELON_I: Final = (
    (
        "SETJEN",
        "Sekretariat Jenderal",
        "central",
        (
            "Biro Perencanaan dan Manajemen Kinerja",
            "Biro Keuangan dan Barang Milik Negara",
            "Biro Organisasi dan Sumber Daya Manusia Aparatur",
            "Biro Hukum",
            "Biro Hubungan Masyarakat",
            "Biro Umum",
            "Pusat Data dan Teknologi Informasi",
            "Pusat Pengembangan SDM Ketenagakerjaan",
            "Pusat Pasar Kerja",
        ),
    ),
    (
        "ITJEN",
        "Inspektorat Jenderal",
        "itjen",
        (
            "Sekretariat Inspektorat Jenderal",
            "Inspektorat I",
            "Inspektorat II",
            "Inspektorat III",
            "Inspektorat Investigasi",
        ),
    ),
    (
        "LAVOTAS",
        "Ditjen Pembinaan Pelatihan Vokasi dan Produktivitas",
        "lavotas",
        (
            "Sekretariat Ditjen Binalavotas",
            "Direktorat Bina Standardisasi Kompetensi",
            "Direktorat Bina Lembaga Pelatihan Vokasi",
            "Direktorat Bina Instruktur dan Tenaga Pelatihan",
            "Direktorat Bina Pemagangan",
            "Direktorat Bina Produktivitas",
        ),
    ),
    (
        "PENTA",
        "Ditjen Pembinaan Penempatan Tenaga Kerja dan Perluasan Kesempatan Kerja",
        "penta",
        (
            "Sekretariat Ditjen Binapenta",
            "Direktorat Bina Penempatan Tenaga Kerja Dalam Negeri",
            "Direktorat Bina Penempatan dan Pelindungan PMI",
            "Direktorat Pengendalian Penggunaan Tenaga Kerja Asing",
            "Direktorat Bina Perluasan Kesempatan Kerja",
        ),
    ),
    (
        "PHIJSK",
        "Ditjen Pembinaan Hubungan Industrial dan Jaminan Sosial Tenaga Kerja",
        "phi",
        (
            "Sekretariat Ditjen PHI dan Jamsos",
            "Direktorat Kelembagaan dan Pencegahan Perselisihan HI",
            "Direktorat Persyaratan Kerja",
            "Direktorat Pengupahan",
            "Direktorat Jaminan Sosial",
            "Direktorat Penyelesaian Perselisihan HI",
        ),
    ),
    (
        "BINWASNAKER",
        "Ditjen Pembinaan Pengawasan Ketenagakerjaan dan K3",
        "wasnaker",
        (
            "Sekretariat Ditjen Binwasnaker dan K3",
            "Direktorat Bina Pemeriksaan Norma Ketenagakerjaan",
            "Direktorat Bina Penegakan Hukum",
            "Direktorat Bina K3",
            "Direktorat Pengawasan Norma Kerja Perempuan dan Anak",
        ),
    ),
    (
        "BARENBANG",
        "Badan Perencanaan dan Pengembangan Ketenagakerjaan",
        "renbang",
        (
            "Sekretariat Badan",
            "Pusat Perencanaan Ketenagakerjaan",
            "Pusat Penelitian dan Pengembangan Ketenagakerjaan",
            "Pusat Standardisasi dan Sertifikasi",
        ),
    ),
)

#: Technical units (UPT): name, province code, province, parent echelon I, kind, is a "balai besar".
UPT: Final = (
    ("BBPVP Bekasi", "32", "Jawa Barat", "LAVOTAS", "upt", True),
    ("BBPVP Bandung", "32", "Jawa Barat", "LAVOTAS", "upt", True),
    ("BBPVP Serang", "36", "Banten", "LAVOTAS", "upt", True),
    ("BBPVP Semarang", "33", "Jawa Tengah", "LAVOTAS", "upt", True),
    ("BBPVP Medan", "12", "Sumatera Utara", "LAVOTAS", "upt", True),
    ("BBPVP Makassar", "73", "Sulawesi Selatan", "LAVOTAS", "upt", True),
    ("BPVP Surakarta", "33", "Jawa Tengah", "LAVOTAS", "upt", False),
    ("BPVP Padang", "13", "Sumatera Barat", "LAVOTAS", "upt", False),
    ("BPVP Banda Aceh", "11", "Aceh", "LAVOTAS", "upt", False),
    ("BPVP Ternate", "82", "Maluku Utara", "LAVOTAS", "upt", False),
    ("BPVP Kendari", "74", "Sulawesi Tenggara", "LAVOTAS", "upt", False),
    ("BPVP Sorong", "92", "Papua Barat Daya", "LAVOTAS", "upt", False),
    ("BPVP Samarinda", "64", "Kalimantan Timur", "LAVOTAS", "upt", False),
    ("BPVP Belitung", "19", "Kepulauan Bangka Belitung", "LAVOTAS", "upt", False),
    ("BPVP Bantaeng", "73", "Sulawesi Selatan", "LAVOTAS", "upt", False),
    ("BPVP Lombok Timur", "52", "Nusa Tenggara Barat", "LAVOTAS", "upt", False),
    ("BPVP Banyuwangi", "35", "Jawa Timur", "LAVOTAS", "upt", False),
    ("BPVP Sidoarjo", "35", "Jawa Timur", "LAVOTAS", "upt", False),
    ("Balai K3 Jakarta", "31", "DKI Jakarta", "BINWASNAKER", "k3", False),
    ("Balai K3 Bandung", "32", "Jawa Barat", "BINWASNAKER", "k3", False),
    ("Balai K3 Samarinda", "64", "Kalimantan Timur", "BINWASNAKER", "k3", False),
    ("Balai K3 Makassar", "73", "Sulawesi Selatan", "BINWASNAKER", "k3", False),
    ("Balai K3 Medan", "12", "Sumatera Utara", "BINWASNAKER", "k3", False),
)

#: Provinces (BPS code, name) with a provincial manpower office (Disnakertrans).
PROVINCES: Final = (
    ("11", "Aceh"),
    ("12", "Sumatera Utara"),
    ("13", "Sumatera Barat"),
    ("14", "Riau"),
    ("15", "Jambi"),
    ("16", "Sumatera Selatan"),
    ("17", "Bengkulu"),
    ("18", "Lampung"),
    ("19", "Kepulauan Bangka Belitung"),
    ("21", "Kepulauan Riau"),
    ("31", "DKI Jakarta"),
    ("32", "Jawa Barat"),
    ("33", "Jawa Tengah"),
    ("34", "DI Yogyakarta"),
    ("35", "Jawa Timur"),
    ("36", "Banten"),
    ("51", "Bali"),
    ("52", "Nusa Tenggara Barat"),
    ("53", "Nusa Tenggara Timur"),
    ("61", "Kalimantan Barat"),
    ("62", "Kalimantan Tengah"),
    ("63", "Kalimantan Selatan"),
    ("64", "Kalimantan Timur"),
    ("65", "Kalimantan Utara"),
    ("71", "Sulawesi Utara"),
    ("72", "Sulawesi Tengah"),
    ("73", "Sulawesi Selatan"),
    ("74", "Sulawesi Tenggara"),
    ("75", "Gorontalo"),
    ("76", "Sulawesi Barat"),
    ("81", "Maluku"),
    ("82", "Maluku Utara"),
    ("91", "Papua"),
    ("92", "Papua Barat Daya"),
    ("94", "Papua Tengah"),
)
