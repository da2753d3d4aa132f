"""Static seed lists for the synthetic Kemnaker-like organisation (domain.md sections 1, 6, 7).

Plain data only: names of units, competencies, functional positions (JF) and programme topics.
Where a fact is uncertain in the domain reference, the choice here is an assumption [A].
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
    ("pengawasan", "PENGAWASAN_K3", (
        "Norma Kerja dan Waktu Kerja", "Norma Pengupahan", "Norma Jaminan Sosial",
        "Norma K3 Umum", "Pesawat Uap dan Bejana Tekan", "Pesawat Angkat dan Angkut",
        "K3 Listrik", "Elevator dan Eskalator", "Penanggulangan Kebakaran",
        "K3 Konstruksi Bangunan", "Kesehatan Kerja", "Lingkungan Kerja",
        "Bahan Kimia Berbahaya", "Penyidikan PPNS", "Penegakan Hukum Ketenagakerjaan",
    )),
    ("hubungan_industrial", "HI", (
        "Teknik Mediasi", "Perundingan Bipartit", "Penyusunan Perjanjian Kerja Bersama",
        "Pencegahan Mogok Kerja", "Penyelesaian Perselisihan Hubungan Industrial",
        "Jaminan Sosial Tenaga Kerja",
    )),
    ("penempatan", "PENEMPATAN", (
        "Antarkerja Lokal", "Antarkerja Antardaerah", "Bimbingan Jabatan dan Karier",
        "Informasi Pasar Kerja", "Pelindungan Pekerja Migran", "Penyelenggaraan Bursa Kerja",
        "Layanan Digital SIAPKerja",
    )),
    ("vokasi", "VOKASI", (
        "Metodologi Pelatihan", "Pelatihan Berbasis Kompetensi", "Asesmen Kompetensi",
        "Pemagangan", "Penyusunan Program Pelatihan", "Peningkatan Produktivitas",
        "Kejuruan Teknik",
    )),
    ("perencanaan", "PERENCANAAN", (
        "Analisis Pasar Kerja", "Perencanaan Tenaga Kerja Makro", "Perencanaan Tenaga Kerja Mikro",
        "Statistik Ketenagakerjaan", "Analisis Kebijakan",
    )),
    ("manajemen", "RB", (
        "Perencanaan dan Penganggaran", "Pengelolaan Keuangan Negara", "Pengadaan Barang/Jasa",
        "Manajemen SDM Aparatur", "Kearsipan", "Hubungan Masyarakat", "Analisis Hukum",
        "Audit Intern", "Akuntabilitas Kinerja (SAKIP)", "Zona Integritas",
        "Pengelolaan Barang Milik Negara", "Bahasa Inggris", "Kediklatan dan Kewidyaiswaraan",
    )),
    ("digital", "DIGITAL", (
        "Tata Kelola SPBE", "Analisis Data dan Visualisasi", "Pengembangan Sistem Informasi",
        "Keamanan Informasi", "Layanan Publik Digital",
    )),
)

#: Functional positions: code, title, competency names, unit kinds, skilled track?, equalisation
#: target. Unit kinds: ``wasnaker``, ``phi``, ``penta``, ``lavotas``, ``renbang``, ``itjen``,
#: ``ppsdm``, ``central`` (any central eselon II unit), ``upt``, ``prov``.
JF: Final = (
    ("PWK", "Pengawas Ketenagakerjaan", (
        "Norma Kerja dan Waktu Kerja", "Norma Pengupahan", "Norma Jaminan Sosial",
        "Norma K3 Umum", "Penyidikan PPNS", "Penegakan Hukum Ketenagakerjaan",
        "Kesehatan Kerja", "Lingkungan Kerja",
    ), ("wasnaker", "prov", "k3"), False),
    ("PK3", "Penguji Keselamatan dan Kesehatan Kerja", (
        "Norma K3 Umum", "Pesawat Uap dan Bejana Tekan", "Pesawat Angkat dan Angkut",
        "K3 Listrik", "Elevator dan Eskalator", "Penanggulangan Kebakaran",
        "K3 Konstruksi Bangunan", "Bahan Kimia Berbahaya",
    ), ("wasnaker", "prov", "k3"), True),
    ("MHI", "Mediator Hubungan Industrial", (
        "Teknik Mediasi", "Perundingan Bipartit", "Penyusunan Perjanjian Kerja Bersama",
        "Pencegahan Mogok Kerja", "Penyelesaian Perselisihan Hubungan Industrial",
        "Jaminan Sosial Tenaga Kerja", "Norma Pengupahan",
    ), ("phi", "prov"), False),
    ("PGK", "Pengantar Kerja", (
        "Antarkerja Lokal", "Antarkerja Antardaerah", "Bimbingan Jabatan dan Karier",
        "Informasi Pasar Kerja", "Pelindungan Pekerja Migran", "Penyelenggaraan Bursa Kerja",
        "Layanan Digital SIAPKerja",
    ), ("penta", "prov"), False),
    ("INS", "Instruktur", (
        "Metodologi Pelatihan", "Pelatihan Berbasis Kompetensi", "Asesmen Kompetensi",
        "Pemagangan", "Penyusunan Program Pelatihan", "Kejuruan Teknik",
        "Peningkatan Produktivitas",
    ), ("lavotas", "upt"), True),
    ("AKT", "Analis Ketenagakerjaan", (
        "Analisis Pasar Kerja", "Perencanaan Tenaga Kerja Makro", "Perencanaan Tenaga Kerja Mikro",
        "Statistik Ketenagakerjaan", "Analisis Kebijakan", "Informasi Pasar Kerja",
        "Analisis Data dan Visualisasi",
    ), ("renbang", "central", "prov"), False),
    ("PRC", "Perencana", (
        "Perencanaan dan Penganggaran", "Akuntabilitas Kinerja (SAKIP)", "Analisis Kebijakan",
        "Analisis Data dan Visualisasi",
    ), ("central", "upt"), False),
    ("AKB", "Analis Kebijakan", (
        "Analisis Kebijakan", "Analisis Hukum", "Analisis Data dan Visualisasi", "Bahasa Inggris",
    ), ("central",), False),
    ("PKOM", "Pranata Komputer", (
        "Tata Kelola SPBE", "Pengembangan Sistem Informasi", "Keamanan Informasi",
        "Analisis Data dan Visualisasi", "Layanan Publik Digital",
    ), ("central", "upt"), True),
    ("STA", "Statistisi", (
        "Statistik Ketenagakerjaan", "Analisis Data dan Visualisasi", "Analisis Pasar Kerja",
    ), ("central",), False),
    ("ASDM", "Analis SDM Aparatur", (
        "Manajemen SDM Aparatur", "Akuntabilitas Kinerja (SAKIP)", "Zona Integritas",
    ), ("central", "upt", "prov"), False),
    ("HUM", "Pranata Hubungan Masyarakat", (
        "Hubungan Masyarakat", "Layanan Publik Digital", "Bahasa Inggris",
    ), ("central",), False),
    ("ARS", "Arsiparis", ("Kearsipan", "Pengelolaan Barang Milik Negara"),
     ("central", "upt", "prov"), True),
    ("HUK", "Analis Hukum", ("Analisis Hukum", "Penegakan Hukum Ketenagakerjaan"),
     ("central",), False),
    ("AUD", "Auditor", (
        "Audit Intern", "Pengelolaan Keuangan Negara", "Pengadaan Barang/Jasa", "Zona Integritas",
    ), ("itjen",), False),
    ("ANG", "Analis Pengelolaan Keuangan APBN", (
        "Pengelolaan Keuangan Negara", "Perencanaan dan Penganggaran",
        "Pengelolaan Barang Milik Negara",
    ), ("central", "upt"), False),
    ("PBJ", "Pengelola Pengadaan Barang/Jasa", ("Pengadaan Barang/Jasa", "Pengelolaan Keuangan Negara"),
     ("central", "upt"), False),
    ("WI", "Widyaiswara", (
        "Kediklatan dan Kewidyaiswaraan", "Metodologi Pelatihan", "Pelatihan Berbasis Kompetensi",
        "Asesmen Kompetensi",
    ), ("ppsdm",), False),
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

#: Echelon I units: code, name, kind of their echelon II units, echelon II names.
ECHELON_I: Final = (
    ("SETJEN", "Sekretariat Jenderal", "central", (
        "Biro Perencanaan dan Manajemen Kinerja", "Biro Keuangan dan Barang Milik Negara",
        "Biro Organisasi dan Sumber Daya Manusia Aparatur", "Biro Hukum",
        "Biro Hubungan Masyarakat", "Biro Umum", "Pusat Data dan Teknologi Informasi",
        "Pusat Pengembangan SDM Ketenagakerjaan", "Pusat Pasar Kerja",
    )),
    ("ITJEN", "Inspektorat Jenderal", "itjen", (
        "Sekretariat Inspektorat Jenderal", "Inspektorat I", "Inspektorat II", "Inspektorat III",
        "Inspektorat Investigasi",
    )),
    ("LAVOTAS", "Ditjen Pembinaan Pelatihan Vokasi dan Produktivitas", "lavotas", (
        "Sekretariat Ditjen Binalavotas", "Direktorat Bina Standardisasi Kompetensi",
        "Direktorat Bina Lembaga Pelatihan Vokasi", "Direktorat Bina Instruktur dan Tenaga Pelatihan",
        "Direktorat Bina Pemagangan", "Direktorat Bina Produktivitas",
    )),
    ("PENTA", "Ditjen Pembinaan Penempatan Tenaga Kerja dan Perluasan Kesempatan Kerja", "penta", (
        "Sekretariat Ditjen Binapenta", "Direktorat Bina Penempatan Tenaga Kerja Dalam Negeri",
        "Direktorat Bina Penempatan dan Pelindungan PMI",
        "Direktorat Pengendalian Penggunaan Tenaga Kerja Asing",
        "Direktorat Bina Perluasan Kesempatan Kerja",
    )),
    ("PHIJSK", "Ditjen Pembinaan Hubungan Industrial dan Jaminan Sosial Tenaga Kerja", "phi", (
        "Sekretariat Ditjen PHI dan Jamsos", "Direktorat Kelembagaan dan Pencegahan Perselisihan HI",
        "Direktorat Persyaratan Kerja", "Direktorat Pengupahan", "Direktorat Jaminan Sosial",
        "Direktorat Penyelesaian Perselisihan HI",
    )),
    ("BINWASNAKER", "Ditjen Pembinaan Pengawasan Ketenagakerjaan dan K3", "wasnaker", (
        "Sekretariat Ditjen Binwasnaker dan K3", "Direktorat Bina Pemeriksaan Norma Ketenagakerjaan",
        "Direktorat Bina Penegakan Hukum", "Direktorat Bina K3",
        "Direktorat Pengawasan Norma Kerja Perempuan dan Anak",
    )),
    ("BARENBANG", "Badan Perencanaan dan Pengembangan Ketenagakerjaan", "renbang", (
        "Sekretariat Badan", "Pusat Perencanaan Ketenagakerjaan",
        "Pusat Penelitian dan Pengembangan Ketenagakerjaan", "Pusat Standardisasi dan Sertifikasi",
    )),
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
    ("11", "Aceh"), ("12", "Sumatera Utara"), ("13", "Sumatera Barat"), ("14", "Riau"),
    ("15", "Jambi"), ("16", "Sumatera Selatan"), ("17", "Bengkulu"), ("18", "Lampung"),
    ("19", "Kepulauan Bangka Belitung"), ("21", "Kepulauan Riau"), ("31", "DKI Jakarta"),
    ("32", "Jawa Barat"), ("33", "Jawa Tengah"), ("34", "DI Yogyakarta"), ("35", "Jawa Timur"),
    ("36", "Banten"), ("51", "Bali"), ("52", "Nusa Tenggara Barat"), ("53", "Nusa Tenggara Timur"),
    ("61", "Kalimantan Barat"), ("62", "Kalimantan Tengah"), ("63", "Kalimantan Selatan"),
    ("64", "Kalimantan Timur"), ("65", "Kalimantan Utara"), ("71", "Sulawesi Utara"),
    ("72", "Sulawesi Tengah"), ("73", "Sulawesi Selatan"), ("74", "Sulawesi Tenggara"),
    ("75", "Gorontalo"), ("76", "Sulawesi Barat"), ("81", "Maluku"), ("82", "Maluku Utara"),
    ("91", "Papua"), ("92", "Papua Barat Daya"), ("94", "Papua Tengah"),
)

#: Providers by kind of programme.
PROVIDERS: Final = {
    "leadership": ("LAN", "PPSDM Kemnaker", "BPSDM Provinsi"),
    "functional": ("PPSDM Kemnaker",),
    "technical": ("PPSDM Kemnaker", "BBPVP Bekasi", "Balai K3 Jakarta", "BPSDM Provinsi", "BKN"),
    "digital": ("PPSDM Kemnaker", "LMS LAN", "LMS BKN", "Universitas Terbuka", "MOOC Mitra"),
    "workplace": ("Unit Kerja", "PPSDM Kemnaker"),
}

FIRST_NAMES_M: Final = (
    "Agus", "Budi", "Dedi", "Eko", "Fajar", "Hendra", "Irwan", "Joko", "Kurniawan", "Lukman",
    "Muhammad", "Nanang", "Rahmat", "Rizky", "Slamet", "Teguh", "Wahyu", "Yudi", "Arif", "Bambang",
    "Dimas", "Faisal", "Gilang", "Hadi", "Ilham", "Andi", "Rudi", "Taufik", "Yusuf", "Zainal",
)
FIRST_NAMES_F: Final = (
    "Ayu", "Dewi", "Fitri", "Indah", "Kartika", "Lestari", "Maya", "Nur", "Putri", "Rina",
    "Sari", "Siti", "Tri", "Wulan", "Yuliana", "Anisa", "Diah", "Endang", "Fransiska", "Gita",
    "Hana", "Intan", "Kiki", "Lina", "Mega", "Novi", "Ratna", "Suci", "Utami", "Vina",
)
LAST_NAMES: Final = (
    "Pratama", "Saputra", "Wijaya", "Hidayat", "Nugroho", "Santoso", "Kusuma", "Setiawan",
    "Siregar", "Nasution", "Harahap", "Simanjuntak", "Lubis", "Sitompul", "Rahman", "Hakim",
    "Susanto", "Purnomo", "Wibowo", "Gunawan", "Suryadi", "Halim", "Tanjung", "Manurung",
    "Pangaribuan", "Daulay", "Syahputra", "Ramadhan", "Maharani", "Permata", "Anggraini",
    "Handayani", "Rahayu", "Puspitasari", "Wulandari", "Pertiwi", "Sembiring", "Ginting",
    "Tarigan", "Lumbantobing", "Latuconsina", "Wenda", "Mandagi", "Rumbiak", "Pattiasina",
)
