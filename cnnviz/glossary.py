"""The course's vocabulary: term ids and the page where each term is shown live.

Texts (name, paragraph, short help) live in cnnviz/i18n under glossary.<id>.* and help.<id>.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    id: str
    page: str  # file under pages/, for st.page_link

    @property
    def name_key(self) -> str:
        return f"glossary.{self.id}.name"

    @property
    def text_key(self) -> str:
        return f"glossary.{self.id}.text"

    @property
    def help_key(self) -> str:
        return f"help.{self.id}"


# Lecture order (합성곱, 채널, 필터, 커널, 스트라이드, 패딩, 피쳐 맵, 액티베이션 맵, 풀링 레이어), then 파라미터.
TERMS: tuple[Term, ...] = (
    Term("convolution", "pages/convolution.py"),
    Term("channel", "pages/convolution.py"),
    Term("filter", "pages/filters.py"),
    Term("kernel", "pages/convolution.py"),
    Term("stride", "pages/convolution.py"),
    Term("padding", "pages/convolution.py"),
    Term("feature_map", "pages/activations.py"),
    Term("activation_map", "pages/activations.py"),
    Term("pooling", "pages/pooling.py"),
    Term("parameter", "pages/layer_lab.py"),
    # Explaining a prediction (the Explain page): the attribution methods, the sanity check, feature visualisation
    Term("attribution", "pages/explain.py"),
    Term("saliency", "pages/explain.py"),
    Term("smoothgrad", "pages/explain.py"),
    Term("integrated_gradients", "pages/explain.py"),
    Term("occlusion", "pages/explain.py"),
    Term("grad_cam", "pages/explain.py"),
    Term("grad_cam_plus_plus", "pages/explain.py"),
    Term("score_cam", "pages/explain.py"),
    Term("layer_cam", "pages/explain.py"),
    Term("sanity_check", "pages/explain.py"),
    Term("feature_visualization", "pages/explain.py"),
)

BY_ID = {term.id: term for term in TERMS}
