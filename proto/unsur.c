/* unsur.c - the survey's nine unsur and answer words (PermenPANRB 14/2017). */
#include "unsur.h"

static const kj_unsur_def k_unsur[KJ_UNSUR_COUNT] = {
    {"u1",
     "Persyaratan",
     "Requirements",
     {"Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"}},
    {"u2",
     "Sistem, mekanisme, dan prosedur",
     "Systems, mechanisms and procedures",
     {"Tidak mudah", "Kurang mudah", "Mudah", "Sangat mudah"}},
    {"u3",
     "Waktu penyelesaian",
     "Completion time",
     {"Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat"}},
    {"u4", "Biaya/tarif", "Cost/fee", {"Sangat mahal", "Cukup mahal", "Murah", "Gratis"}},
    {"u5",
     "Produk spesifikasi jenis pelayanan",
     "Service product specification",
     {"Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"}},
    {"u6",
     "Kompetensi pelaksana",
     "Staff competence",
     {"Tidak kompeten", "Kurang kompeten", "Kompeten", "Sangat kompeten"}},
    {"u7",
     "Perilaku pelaksana",
     "Staff behaviour",
     {"Tidak sopan dan ramah", "Kurang sopan dan ramah", "Sopan dan ramah",
      "Sangat sopan dan ramah"}},
    {"u8",
     "Penanganan pengaduan, saran dan masukan",
     "Handling of complaints and suggestions",
     {"Tidak ada", "Ada tetapi tidak berfungsi", "Berfungsi kurang maksimal",
      "Dikelola dengan baik"}},
    {"u9", "Sarana dan prasarana", "Facilities", {"Buruk", "Cukup", "Baik", "Sangat baik"}},
};

const kj_unsur_def *kj_unsur(int i) {
  return i >= 0 && i < KJ_UNSUR_COUNT ? &k_unsur[i] : 0;
}
