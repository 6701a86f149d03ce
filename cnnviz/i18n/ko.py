"""한국어 텍스트. en.py와 키가 정확히 같아야 합니다."""

TEXTS = {
    # --- app and navigation ---
    "app.title": "cnnviz",
    "app.tagline": "합성곱 신경망(CNN)이 일하는 모습을, Keras가 계산하는 그대로 봅니다.",
    "nav.layer_lab": "레이어 실험실",
    "nav.activations": "액티베이션 맵",
    "nav.filters": "필터",
    "nav.convolution": "합성곱 단계별 보기",
    "nav.pooling": "풀링 단계별 보기",
    "nav.probability": "분포의 합성곱",
    "nav.glossary": "용어집",
    "nav.model": "모델",
    "nav.train": "학습",
    "nav.section.learn": "배우기",
    "nav.section.inspect": "살펴보기",
    "nav.section.build": "만들기",
    # --- sidebar ---
    "sidebar.language": "언어",
    "sidebar.model": "모델",
    "sidebar.image": "이미지",
    "sidebar.image.source": "이미지 출처",
    "sidebar.image.gallery": "갤러리",
    "sidebar.image.upload": "업로드",
    "sidebar.image.camera": "카메라",
    "sidebar.image.sample": "예시 이미지",
    "sidebar.device": "장치",
    # --- models ---
    "model.seed.desc": "강의 예제: 120x60x1 입력, 합성곱+풀링 블록 3개, Dense 128, 클래스 4개.",
    "model.tiny_vgg.desc": "CNN Explainer의 Tiny VGG: 64x64x3 입력, 3x3 합성곱 2개와 맥스 풀링으로 된 블록 2개, 클래스 10개.",
    "model.lenet5.desc": "LeNet-5 형태: 32x32x1 입력, 5x5 합성곱과 평균 풀링, 이어서 120-84-10.",
    # --- layer lab ---
    # --- activations ---
    # --- filters ---
    # --- convolution ---
    # --- pooling ---
    # --- probability ---
    # --- glossary ---
    # --- model ---
    # --- train ---
    # --- errors ---
    "error.unexpected": "이 페이지에서 문제가 생겼습니다: {error}. 다른 페이지는 계속 동작합니다.",
}
