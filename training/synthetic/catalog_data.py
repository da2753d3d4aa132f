"""Static seed lists for the synthetic Kemnaker-like organisation (domain.md sections 1, 6, 7):
competencies, functional positions (JF), pelaksana titles and programme providers.

Plain data only. The units are in :mod:`training.synthetic.org_data`, the personal names in
:mod:`training.synthetic.names_data`. Where a fact is uncertain in the domain reference, the
choice here is an assumption [A].
"""

from __future__ import annotations

from typing import Final

MANAGERIAL: Final = (
    ("Integritas", "Integrity"),
    ("Kerja Sama", "Teamwork"),
    ("Komunikasi", "Communication"),
    ("Orientasi pada Hasil", "Results orientation"),
    ("Pelayanan Publik", "Public service orientation"),
    ("Pengembangan Diri dan Orang Lain", "Developing self and others"),
    ("Mengelola Perubahan", "Managing change"),
    ("Pengambilan Keputusan", "Decision making"),
)
SOCIOCULTURAL: Final = (("Perekat Bangsa", "National unifier"),)

#: Technical competencies by cluster: (cluster, priority theme, names).
TECHNICAL: Final = (
    (
        "pengawasan",
        "PENGAWASAN_K3",
        (
            "Norma Kerja dan Waktu Kerja",
            "Norma Pengupahan",
            "Norma Jaminan Sosial",
            "Norma K3 Umum",
            "Pesawat Uap dan Bejana Tekan",
            "Pesawat Angkat dan Angkut",
            "K3 Listrik",
            "Elevator dan Eskalator",
            "Penanggulangan Kebakaran",
            "K3 Konstruksi Bangunan",
            "Kesehatan Kerja",
            "Lingkungan Kerja",
            "Bahan Kimia Berbahaya",
            "Penyidikan PPNS",
            "Penegakan Hukum Ketenagakerjaan",
        ),
    ),
    (
        "hubungan_industrial",
        "HI",
        (
            "Teknik Mediasi",
            "Perundingan Bipartit",
            "Penyusunan Perjanjian Kerja Bersama",
            "Pencegahan Mogok Kerja",
            "Penyelesaian Perselisihan Hubungan Industrial",
            "Jaminan Sosial Tenaga Kerja",
        ),
    ),
    (
        "penempatan",
        "PENEMPATAN",
        (
            "Antarkerja Lokal",
            "Antarkerja Antardaerah",
            "Bimbingan Jabatan dan Karier",
            "Informasi Pasar Kerja",
            "Pelindungan Pekerja Migran",
            "Penyelenggaraan Bursa Kerja",
            "Layanan Digital SIAPKerja",
        ),
    ),
    (
        "vokasi",
        "VOKASI",
        (
            "Metodologi Pelatihan",
            "Pelatihan Berbasis Kompetensi",
            "Asesmen Kompetensi",
            "Pemagangan",
            "Penyusunan Program Pelatihan",
            "Peningkatan Produktivitas",
            "Kejuruan Teknik",
        ),
    ),
    (
        "perencanaan",
        "PERENCANAAN",
        (
            "Analisis Pasar Kerja",
            "Perencanaan Tenaga Kerja Makro",
            "Perencanaan Tenaga Kerja Mikro",
            "Statistik Ketenagakerjaan",
            "Analisis Kebijakan",
        ),
    ),
    (
        "manajemen",
        "RB",
        (
            "Perencanaan dan Penganggaran",
            "Pengelolaan Keuangan Negara",
            "Pengadaan Barang/Jasa",
            "Manajemen SDM Aparatur",
            "Kearsipan",
            "Hubungan Masyarakat",
            "Analisis Hukum",
            "Audit Intern",
            "Akuntabilitas Kinerja (SAKIP)",
            "Zona Integritas",
            "Pengelolaan Barang Milik Negara",
            "Bahasa Inggris",
            "Kediklatan dan Kewidyaiswaraan",
        ),
    ),
    (
        "digital",
        "DIGITAL",
        (
            "Tata Kelola SPBE",
            "Analisis Data dan Visualisasi",
            "Pengembangan Sistem Informasi",
            "Keamanan Informasi",
            "Layanan Publik Digital",
        ),
    ),
)

#: Functional positions: code, title, competency names, unit kinds, skilled track?, equalisation
#: target. Unit kinds: ``wasnaker``, ``phi``, ``penta``, ``lavotas``, ``renbang``, ``itjen``,
#: ``ppsdm``, ``central`` (any central eselon II unit), ``upt``, ``prov``.
JF: Final = (
    (
        "PWK",
        "Pengawas Ketenagakerjaan",
        (
            "Norma Kerja dan Waktu Kerja",
            "Norma Pengupahan",
            "Norma Jaminan Sosial",
            "Norma K3 Umum",
            "Penyidikan PPNS",
            "Penegakan Hukum Ketenagakerjaan",
            "Kesehatan Kerja",
            "Lingkungan Kerja",
        ),
        ("wasnaker", "prov", "k3"),
        False,
    ),
    (
        "PK3",
        "Penguji Keselamatan dan Kesehatan Kerja",
        (
            "Norma K3 Umum",
            "Pesawat Uap dan Bejana Tekan",
            "Pesawat Angkat dan Angkut",
            "K3 Listrik",
            "Elevator dan Eskalator",
            "Penanggulangan Kebakaran",
            "K3 Konstruksi Bangunan",
            "Bahan Kimia Berbahaya",
        ),
        ("wasnaker", "prov", "k3"),
        True,
    ),
    (
        "MHI",
        "Mediator Hubungan Industrial",
        (
            "Teknik Mediasi",
            "Perundingan Bipartit",
            "Penyusunan Perjanjian Kerja Bersama",
            "Pencegahan Mogok Kerja",
            "Penyelesaian Perselisihan Hubungan Industrial",
            "Jaminan Sosial Tenaga Kerja",
            "Norma Pengupahan",
        ),
        ("phi", "prov"),
        False,
    ),
    (
        "PGK",
        "Pengantar Kerja",
        (
            "Antarkerja Lokal",
            "Antarkerja Antardaerah",
            "Bimbingan Jabatan dan Karier",
            "Informasi Pasar Kerja",
            "Pelindungan Pekerja Migran",
            "Penyelenggaraan Bursa Kerja",
            "Layanan Digital SIAPKerja",
        ),
        ("penta", "prov"),
        False,
    ),
    (
        "INS",
        "Instruktur",
        (
            "Metodologi Pelatihan",
            "Pelatihan Berbasis Kompetensi",
            "Asesmen Kompetensi",
            "Pemagangan",
            "Penyusunan Program Pelatihan",
            "Kejuruan Teknik",
            "Peningkatan Produktivitas",
        ),
        ("lavotas", "upt"),
        True,
    ),
    (
        "AKT",
        "Analis Ketenagakerjaan",
        (
            "Analisis Pasar Kerja",
            "Perencanaan Tenaga Kerja Makro",
            "Perencanaan Tenaga Kerja Mikro",
            "Statistik Ketenagakerjaan",
            "Analisis Kebijakan",
            "Informasi Pasar Kerja",
            "Analisis Data dan Visualisasi",
        ),
        ("renbang", "central", "prov"),
        False,
    ),
    (
        "PRC",
        "Perencana",
        (
            "Perencanaan dan Penganggaran",
            "Akuntabilitas Kinerja (SAKIP)",
            "Analisis Kebijakan",
            "Analisis Data dan Visualisasi",
        ),
        ("central", "upt"),
        False,
    ),
    (
        "AKB",
        "Analis Kebijakan",
        (
            "Analisis Kebijakan",
            "Analisis Hukum",
            "Analisis Data dan Visualisasi",
            "Bahasa Inggris",
        ),
        ("central",),
        False,
    ),
    (
        "PKOM",
        "Pranata Komputer",
        (
            "Tata Kelola SPBE",
            "Pengembangan Sistem Informasi",
            "Keamanan Informasi",
            "Analisis Data dan Visualisasi",
            "Layanan Publik Digital",
        ),
        ("central", "upt"),
        True,
    ),
    (
        "STA",
        "Statistisi",
        (
            "Statistik Ketenagakerjaan",
            "Analisis Data dan Visualisasi",
            "Analisis Pasar Kerja",
        ),
        ("central",),
        False,
    ),
    (
        "ASDM",
        "Analis SDM Aparatur",
        (
            "Manajemen SDM Aparatur",
            "Akuntabilitas Kinerja (SAKIP)",
            "Zona Integritas",
        ),
        ("central", "upt", "prov"),
        False,
    ),
    (
        "HUM",
        "Pranata Hubungan Masyarakat",
        (
            "Hubungan Masyarakat",
            "Layanan Publik Digital",
            "Bahasa Inggris",
        ),
        ("central",),
        False,
    ),
    (
        "ARS",
        "Arsiparis",
        ("Kearsipan", "Pengelolaan Barang Milik Negara"),
        ("central", "upt", "prov"),
        True,
    ),
    (
        "HUK",
        "Analis Hukum",
        ("Analisis Hukum", "Penegakan Hukum Ketenagakerjaan"),
        ("central",),
        False,
    ),
    (
        "AUD",
        "Auditor",
        (
            "Audit Intern",
            "Pengelolaan Keuangan Negara",
            "Pengadaan Barang/Jasa",
            "Zona Integritas",
        ),
        ("itjen",),
        False,
    ),
    (
        "ANG",
        "Analis Pengelolaan Keuangan APBN",
        (
            "Pengelolaan Keuangan Negara",
            "Perencanaan dan Penganggaran",
            "Pengelolaan Barang Milik Negara",
        ),
        ("central", "upt"),
        False,
    ),
    (
        "PBJ",
        "Pengelola Pengadaan Barang/Jasa",
        ("Pengadaan Barang/Jasa", "Pengelolaan Keuangan Negara"),
        ("central", "upt"),
        False,
    ),
    (
        "WI",
        "Widyaiswara",
        (
            "Kediklatan dan Kewidyaiswaraan",
            "Metodologi Pelatihan",
            "Pelatihan Berbasis Kompetensi",
            "Asesmen Kompetensi",
        ),
        ("ppsdm",),
        False,
    ),
)

#: Pelaksana titles and the cross-cutting competencies they need.
PELAKSANA: Final = (
    ("Pengadministrasi Umum", ("Kearsipan", "Layanan Publik Digital")),
    ("Pengolah Data", ("Analisis Data dan Visualisasi", "Statistik Ketenagakerjaan")),
    ("Pengelola Keuangan", ("Pengelolaan Keuangan Negara", "Pengelolaan Barang Milik Negara")),
    ("Pengelola Layanan Ketenagakerjaan", ("Informasi Pasar Kerja", "Layanan Publik Digital")),
    ("Pengelola Kepegawaian", ("Manajemen SDM Aparatur", "Kearsipan")),
    ("Teknisi Sarana Pelatihan", ("Kejuruan Teknik", "Norma K3 Umum")),
)

#: Providers by kind of programme.
PROVIDERS: Final = {
    "leadership": ("LAN", "PPSDM Kemnaker", "BPSDM Provinsi"),
    "functional": ("PPSDM Kemnaker",),
    "technical": ("PPSDM Kemnaker", "BBPVP Bekasi", "Balai K3 Jakarta", "BPSDM Provinsi", "BKN"),
    "digital": ("PPSDM Kemnaker", "LMS LAN", "LMS BKN", "Universitas Terbuka", "MOOC Mitra"),
    "workplace": ("Unit Kerja", "PPSDM Kemnaker"),
}
