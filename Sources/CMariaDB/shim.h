#ifndef SHADOWGATE_CMARIADB_SHIM_H
#define SHADOWGATE_CMARIADB_SHIM_H
#include <mysql.h>
#endif
