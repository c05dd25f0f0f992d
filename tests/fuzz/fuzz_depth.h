/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_depth - how deeply DCMTK nested what it parsed, walked without
 * recursion; shared by the network-face harnesses, which require it to
 * stay within DSSCAN_MAX_DEPTH.
 */
#ifndef RS_FUZZ_DEPTH_H
#define RS_FUZZ_DEPTH_H

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcitem.h"
#include "dcmtk/dcmdata/dcsequen.h"

#include <utility>
#include <vector>

static inline int
fuzz_depth(DcmItem *top)
{
	std::vector<std::pair<DcmItem *, int> > st;
	int max = 0;

	st.push_back(std::make_pair(top, 0));
	while (!st.empty()) {
		DcmItem *it = st.back().first;
		int d = st.back().second;

		st.pop_back();
		for (unsigned long i = 0; i < it->card(); i++) {
			DcmElement *e = it->getElement(i);

			if (e == NULL || (e->ident() != EVR_SQ &&
			    e->ident() != EVR_pixelSQ))
				continue;
			if (d + 1 > max)
				max = d + 1;
			if (e->ident() != EVR_SQ)
				continue;
			DcmSequenceOfItems *sq = static_cast<DcmSequenceOfItems *>(e);
			for (unsigned long j = 0; j < sq->card(); j++)
				if (sq->getItem(j) != NULL)
					st.push_back(std::make_pair(sq->getItem(j), d + 1));
		}
	}
	return max;
}

#endif
