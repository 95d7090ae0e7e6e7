/* main.c - the kinerjad program: everything is in kj_server (admin.c). */
#include "admin.h"

int main(int argc, char **argv) {
  return kjs_admin_main(argc, argv);
}
