/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dtype - the tensor type traits table. */
#include "infer/dtype.h"
